// A tiny element builder: enough to keep page code declarative without a framework.

export type Child = Node | string | number | null | undefined | false | Child[];
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs?: Attrs | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v == null || v === false) continue;
      if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (k === 'class') el.className = String(v);
      else if (v === true) el.setAttribute(k, '');
      else el.setAttribute(k, String(v));
    }
  }
  append(el, children);
  return el;
}

export function append(parent: Node, children: Child[]): void {
  for (const c of children) {
    if (c == null || c === false) continue;
    if (Array.isArray(c)) append(parent, c);
    else parent.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
  }
}

/** Replaces all children of `el`. */
export function mount(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

/** Sets text only when it changed, so polling does not disturb text selection. */
export function setText(el: Element, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}

export function table(headers: string[], rows: Node[], emptyText: string, attrs?: Attrs): HTMLElement {
  const body = rows.length ? rows : h('tr', { class: 'empty' }, h('td', { colspan: headers.length }, emptyText));
  // The wrapper scrolls sideways on narrow screens instead of widening the page.
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'table', ...attrs },
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          headers.map((x) => h('th', null, x)),
        ),
      ),
      h('tbody', null, body),
    ),
  );
}

export function card(title: string | null, ...children: Child[]): HTMLElement {
  return h('section', { class: 'card' }, title ? h('h2', { class: 'card-title' }, title) : null, ...children);
}

/** A labelled value in a header row of facts. */
export function fact(label: string, value: Node | string): HTMLElement {
  return h(
    'div',
    { class: 'fact' },
    h('div', { class: 'fact-label' }, label),
    h('div', { class: 'fact-value' }, value),
  );
}
