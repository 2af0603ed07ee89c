// Visible error banners: every failed request reports here, keyed so a poll that keeps
// failing updates one banner instead of stacking, and a later success clears it.

const banners = new Map<string, HTMLElement>();

function container(): HTMLElement {
  return document.getElementById('banners')!;
}

export function showError(key: string, message: string): void {
  let el = banners.get(key);
  if (!el) {
    el = document.createElement('div');
    el.className = 'banner banner-error';
    el.setAttribute('role', 'alert');
    const text = document.createElement('span');
    text.className = 'banner-text';
    const close = document.createElement('button');
    close.className = 'banner-close';
    close.title = 'Dismiss';
    close.textContent = '×';
    close.addEventListener('click', () => clearError(key));
    el.append(text, close);
    banners.set(key, el);
    container().appendChild(el);
  }
  el.querySelector('.banner-text')!.textContent = message;
}

export function clearError(key: string): void {
  banners.get(key)?.remove();
  banners.delete(key);
}

/** On navigation: what is still broken reports again with the next poll. */
export function clearAllErrors(): void {
  for (const key of [...banners.keys()]) clearError(key);
}

/** Adds an async event handler whose unexpected rejection shows as a banner instead of vanishing. */
export function listenAsync<K extends keyof HTMLElementEventMap>(
  el: HTMLElement,
  type: K,
  handler: (ev: HTMLElementEventMap[K]) => Promise<void>,
): void {
  el.addEventListener(type, (ev) => {
    handler(ev).catch((err: unknown) => showError(`handler:${type}`, err instanceof Error ? err.message : String(err)));
  });
}
