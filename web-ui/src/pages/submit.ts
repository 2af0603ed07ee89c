// Upload a bundle, list uploaded bundles, run one with parallelism and arguments, optionally
// from a savepoint.

import { rest } from '../api.js';
import { card, h, mount, table } from '../dom.js';
import { formatTimestamp, splitArgs } from '../format.js';
import { navigate, type PageContext } from '../router.js';
import { confirmDialog } from '../components/confirm.js';
import type { JarFile } from '../types.js';
import { listenAsync } from '../banner.js';

export function submitPage({ root, signal }: PageContext): void {
  const file = h('input', { type: 'file', accept: '.weir,.tgz,.gz,.tar', 'data-testid': 'bundle-file' });
  const upload = h('button', { class: 'btn btn-primary', type: 'submit', disabled: true }, 'Upload');
  const status = h('span', { class: 'muted' });
  const form = h('form', { class: 'upload' }, h('label', { class: 'file' }, file), upload, status);
  const list = h('div', null, h('div', { class: 'muted' }, 'Loading…'));
  mount(
    root,
    card(
      'Upload a bundle',
      h('p', { class: 'hint' }, 'A bundle is the .weir file made by `weir bundle job.ts -o job.weir`.'),
      form,
    ),
    card('Uploaded bundles', list),
  );

  file.addEventListener('change', () => (upload.disabled = !file.files?.length));
  listenAsync(form, 'submit', async (ev) => {
    ev.preventDefault();
    const f = file.files?.[0];
    if (!f) return;
    upload.disabled = true;
    status.textContent = `Uploading ${f.name}…`;
    try {
      await rest.uploadJar(f);
      status.textContent = `Uploaded ${f.name}.`;
      form.reset();
      await refresh();
    } catch {
      status.textContent = '';
      upload.disabled = false;
    }
  });

  const refresh = async (): Promise<void> => {
    const { files } = await rest.jars(signal);
    if (signal.aborted) return;
    const rows = [...files].sort((a, b) => b.uploaded - a.uploaded).map((jar) => jarRow(jar, refresh));
    mount(
      list,
      table(
        ['Bundle', 'Uploaded', 'Entry', 'Parallelism', 'Program arguments', 'Start from savepoint', ''],
        rows,
        'No bundles uploaded yet.',
        { 'data-testid': 'jars' },
      ),
    );
  };
  void refresh().catch(() => undefined);
}

function jarRow(jar: JarFile, refresh: () => Promise<void>): HTMLElement {
  const parallelism = h('input', {
    type: 'number',
    min: 1,
    placeholder: 'default',
    class: 'input input-narrow',
    'aria-label': 'Parallelism',
  });
  const args = h('input', {
    type: 'text',
    placeholder: '--key value',
    class: 'input',
    'aria-label': 'Program arguments',
  });
  const savepoint = h('input', {
    type: 'text',
    placeholder: 'savepoint path (optional)',
    class: 'input',
    'aria-label': 'Savepoint path',
    name: 'savepoint-path',
    spellcheck: 'false',
  });
  const allowNonRestored = h('input', { type: 'checkbox', name: 'allow-non-restored-state' });
  const run = h('button', { class: 'btn btn-primary btn-small', 'data-action': 'run' }, 'Run');
  const del = h('button', { class: 'btn btn-small', 'data-action': 'delete' }, 'Delete');

  listenAsync(run, 'click', async () => {
    const p = parallelism.value.trim() ? Number(parallelism.value) : undefined;
    if (p !== undefined && !(Number.isInteger(p) && p > 0)) {
      parallelism.setCustomValidity('A positive whole number');
      parallelism.reportValidity();
      return;
    }
    parallelism.setCustomValidity('');
    run.disabled = true;
    run.textContent = 'Starting…';
    try {
      const savepointPath = savepoint.value.trim();
      const { jobid } = await rest.runJar(jar.id, {
        parallelism: p,
        programArgsList: splitArgs(args.value),
        ...(savepointPath ? { savepointPath, allowNonRestoredState: allowNonRestored.checked } : {}),
      });
      navigate(`/jobs/${jobid}`);
    } catch {
      run.disabled = false;
      run.textContent = 'Run';
    }
  });
  listenAsync(del, 'click', async () => {
    if (!(await confirmDialog(`Delete bundle "${jar.name}"?`, 'Delete', 'Keep'))) return;
    try {
      await rest.deleteJar(jar.id);
      await refresh();
    } catch {
      // The banner says why.
    }
  });

  return h(
    'tr',
    { 'data-jar-id': jar.id },
    h('td', null, jar.name, h('div', { class: 'sub mono' }, jar.id)),
    h('td', null, formatTimestamp(jar.uploaded)),
    h('td', { class: 'mono' }, (jar.entry ?? []).map((e) => e.name).join(', ') || '—'),
    h('td', null, parallelism),
    h('td', null, args),
    h(
      'td',
      null,
      savepoint,
      h(
        'label',
        {
          class: 'check sub',
          title: 'Start even if some of the saved state belongs to no operator of this job; that state is dropped.',
        },
        allowNonRestored,
        'Allow non-restored state',
      ),
    ),
    h('td', { class: 'actions' }, run, ' ', del),
  );
}
