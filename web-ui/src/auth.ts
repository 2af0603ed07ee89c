// The REST token of a JobManager with security.rest.token: asked for with a small dialog on the
// first 401, kept in sessionStorage (this browser tab's session only), and sent as a Bearer header
// with every request. A refused token asks again, saying so.

import { field, formDialog } from './components/form-dialog.js';
import { h } from './dom.js';

const KEY = 'weir.rest-token';

/** The token where sessionStorage is unavailable (storage disabled): until the page is reloaded. */
let memory: string | null = null;

export function currentToken(): string | null {
  try {
    return sessionStorage.getItem(KEY) ?? memory;
  } catch {
    return memory;
  }
}

function keep(token: string): void {
  memory = token;
  try {
    sessionStorage.setItem(KEY, token);
  } catch {
    // Kept in memory only.
  }
}

export function authHeader(token: string | null): Record<string, string> {
  return token ? { Authorization: `Bearer ${token}` } : {};
}

let asking: Promise<string | null> | undefined;
/** The user closed the dialog: requests fail with the server's message until the page is reloaded. */
let declined = false;

/**
 * After a 401 to a request sent with `sent` (null: none), the token to retry with, or null to give
 * up. Concurrent requests share one dialog; a request sent before a newer token was entered just
 * retries with that one.
 */
export function tokenAfterRefusal(sent: string | null): Promise<string | null> {
  const now = currentToken();
  if (now !== null && now !== sent) return Promise.resolve(now);
  if (declined) return Promise.resolve(null);
  asking ??= ask(sent !== null).finally(() => (asking = undefined));
  return asking;
}

async function ask(refused: boolean): Promise<string | null> {
  const input = h('input', {
    type: 'password',
    name: 'token',
    autocomplete: 'current-password',
    required: true,
    spellcheck: 'false',
    'data-testid': 'token-input',
  });
  const ok = await formDialog({
    id: 'token',
    title: 'Token required',
    intro: [
      refused
        ? h(
            'p',
            { class: 'form-problem', role: 'alert', 'data-testid': 'token-refused' },
            'The token was refused. Enter it again.',
          )
        : null,
      h(
        'p',
        null,
        "This JobManager accepts only requests with its token (security.rest.token). It is kept for this browser tab's session.",
      ),
    ],
    fields: [field('Token', input)],
    confirmLabel: 'Sign in',
    cancelLabel: 'Cancel',
    validate: () => (input.value.trim() ? null : 'Enter the token.'),
  });
  const token = input.value.trim();
  if (!ok || !token) {
    declined = true;
    return null;
  }
  keep(token);
  return token;
}
