// Choosing a bundle for a run: one of the uploaded bundles (GET /jars), or a new upload.

import { rest } from '../api.js';
import { h, mount } from '../dom.js';
import { formatTimestamp } from '../format.js';
import { actionError } from '../savepoints.js';
import type { JarFile } from '../types.js';
import { field } from './form-dialog.js';
import type { Field } from './savepoint-fields.js';
import { listenAsync } from '../banner.js';

export interface JarPicker extends Field<string | undefined> {
  /** The chosen bundle's name, for messages. */
  name(): string;
}

/** `current` is preselected and marked (the job's own bundle); `placeholder` asks for another. */
export function jarPicker(current: string | null | undefined, opts: { preselect: boolean; label?: string }): JarPicker {
  const select = h('select', { class: 'input input-wide', name: 'jar', required: true, 'aria-label': 'Bundle' });
  const file = h('input', {
    type: 'file',
    accept: '.weir,.tgz,.gz,.tar',
    name: 'jarfile',
    'data-testid': 'upgrade-bundle-file',
  });
  const status = h('span', { class: 'field-hint' });
  let jars: JarFile[] = [];
  let uploading = false;

  const fill = (selected: string | undefined): void => {
    const sorted = [...jars].sort((a, b) => b.uploaded - a.uploaded);
    mount(
      select,
      h('option', { value: '' }, sorted.length ? 'Choose a bundle…' : 'No bundles uploaded: upload one'),
      sorted.map((j) =>
        h(
          'option',
          { value: j.id, selected: j.id === selected },
          `${j.name}${j.id === current ? ' (this job’s bundle)' : ''} · ${formatTimestamp(j.uploaded)}`,
        ),
      ),
    );
    select.value = sorted.some((j) => j.id === selected) ? selected! : '';
  };
  const load = async (selected: string | undefined): Promise<void> => {
    jars = (await rest.jars()).files;
    fill(selected);
  };
  select.appendChild(h('option', { value: '' }, 'Loading…'));
  void load(opts.preselect && current ? current : undefined).catch(() =>
    mount(select, h('option', { value: '' }, 'Could not list the bundles')),
  );

  listenAsync(file, 'change', async () => {
    const f = file.files?.[0];
    if (!f) return;
    uploading = true;
    status.textContent = `Uploading ${f.name}…`;
    try {
      const res = await rest.uploadJar(f, true);
      const id = res.filename.split('/').pop()!;
      await load(id);
      status.textContent = `Uploaded ${f.name}.`;
    } catch (err) {
      status.textContent = `Upload failed: ${actionError(err).message}`;
    } finally {
      uploading = false;
      file.value = '';
    }
  });

  return {
    el: h(
      'div',
      null,
      field(opts.label ?? 'Bundle', select),
      h('label', { class: 'field' }, h('span', { class: 'field-label' }, 'or upload one'), file, status),
    ),
    value: () => select.value || undefined,
    name: () => jars.find((j) => j.id === select.value)?.name ?? select.value,
    problem: () => (uploading ? 'Wait for the upload to finish.' : select.value ? null : 'Choose the bundle to run.'),
  };
}
