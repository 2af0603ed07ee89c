// Hash routing: `#/jobs/<jid>` etc. Each navigation aborts the previous page's signal,
// which stops its polling and tears down what it registered.

import { clearAllErrors } from './banner.js';
import { reportUiError } from './api.js';

export interface PageContext {
  root: HTMLElement;
  params: Record<string, string>;
  signal: AbortSignal;
}

export interface Route {
  /** e.g. '/jobs/:jid/exceptions' */
  path: string;
  /** The sidebar entry to highlight. */
  nav: string;
  title: string | ((params: Record<string, string>) => string);
  render(ctx: PageContext): void | Promise<void>;
}

interface CompiledRoute extends Route {
  regex: RegExp;
  keys: string[];
}

function compile(route: Route): CompiledRoute {
  const keys: string[] = [];
  const source = route.path.replace(/:([a-zA-Z]+)/g, (_, k: string) => {
    keys.push(k);
    return '([^/]+)';
  });
  return { ...route, regex: new RegExp(`^${source}/?$`), keys };
}

export function currentPath(): string {
  const raw = location.hash.replace(/^#/, '');
  return raw.startsWith('/') ? raw : `/${raw}`;
}

export function navigate(path: string): void {
  location.hash = `#${path}`;
}

export function startRouter(routes: Route[], root: HTMLElement, onRoute: (route: Route, title: string) => void): void {
  const compiled = routes.map(compile);
  let controller: AbortController | undefined;

  const dispatch = (): void => {
    controller?.abort();
    controller = new AbortController();
    clearAllErrors();
    const path = currentPath().split('?')[0]!;
    let match: { route: CompiledRoute; params: Record<string, string> } | undefined;
    for (const route of compiled) {
      const m = route.regex.exec(path);
      if (m) {
        const params: Record<string, string> = {};
        route.keys.forEach((k, i) => (params[k] = decodeURIComponent(m[i + 1]!)));
        match = { route, params };
        break;
      }
    }
    if (!match) {
      navigate('/overview');
      return;
    }
    const title = typeof match.route.title === 'function' ? match.route.title(match.params) : match.route.title;
    onRoute(match.route, title);
    root.replaceChildren();
    window.scrollTo(0, 0);
    try {
      const done = match.route.render({ root, params: match.params, signal: controller.signal });
      if (done) done.catch(reportUiError);
    } catch (err) {
      reportUiError(err);
    }
  };

  window.addEventListener('hashchange', dispatch);
  dispatch();
}
