// The dashboard shell: sidebar, top bar, error banners, and the routed page.

import './styles.css';
import { rest } from './api.js';
import { h } from './dom.js';
import { startRouter, type Route } from './router.js';
import { overviewPage } from './pages/overview.js';
import { jobsPage } from './pages/jobs.js';
import { jobDetailPage } from './pages/job-detail.js';
import { submitPage } from './pages/submit.js';
import { deploymentsPage } from './pages/deployments.js';
import { deploymentDetailPage } from './pages/deployment-detail.js';
import { jobManagerLogPage, taskManagerLogPage, taskManagersPage } from './pages/taskmanagers.js';

const NAV: [id: string, label: string, href: string][] = [
  ['overview', 'Overview', '#/overview'],
  ['jobs', 'Jobs', '#/jobs'],
  ['deployments', 'Deployments', '#/deployments'],
  ['submit', 'Submit job', '#/submit'],
  ['taskmanagers', 'Task managers', '#/taskmanagers'],
  ['logs', 'JobManager log', '#/logs'],
];

const shortId = (id: string): string => (id.length > 12 ? `${id.slice(0, 8)}…` : id);

const routes: Route[] = [
  { path: '/overview', nav: 'overview', title: 'Overview', render: overviewPage },
  { path: '/jobs', nav: 'jobs', title: 'Jobs', render: jobsPage },
  { path: '/jobs/:jid', nav: 'jobs', title: (p) => `Job ${shortId(p.jid!)}`, render: jobDetailPage('overview') },
  {
    path: '/jobs/:jid/exceptions',
    nav: 'jobs',
    title: (p) => `Job ${shortId(p.jid!)}`,
    render: jobDetailPage('exceptions'),
  },
  {
    path: '/jobs/:jid/checkpoints',
    nav: 'jobs',
    title: (p) => `Job ${shortId(p.jid!)}`,
    render: jobDetailPage('checkpoints'),
  },
  { path: '/deployments', nav: 'deployments', title: 'Deployments', render: deploymentsPage },
  {
    path: '/deployments/:name',
    nav: 'deployments',
    title: (p) => `Deployment ${p.name!}`,
    render: deploymentDetailPage,
  },
  { path: '/submit', nav: 'submit', title: 'Submit job', render: submitPage },
  { path: '/taskmanagers', nav: 'taskmanagers', title: 'Task managers', render: taskManagersPage },
  { path: '/taskmanagers/:id/log', nav: 'taskmanagers', title: 'Task manager log', render: taskManagerLogPage },
  { path: '/logs', nav: 'logs', title: 'JobManager log', render: jobManagerLogPage },
];

function shell(): { main: HTMLElement; title: HTMLElement; version: HTMLElement; links: Map<string, HTMLElement> } {
  const links = new Map<string, HTMLElement>();
  const nav = h(
    'nav',
    { class: 'nav' },
    NAV.map(([id, label, href]) => {
      const a = h('a', { href, class: 'nav-link', 'data-nav': id }, label);
      links.set(id, a);
      return a;
    }),
  );
  const title = h('h1', { class: 'topbar-title' });
  const version = h('span', { class: 'topbar-version' });
  const main = h('main', { class: 'page' });
  document
    .getElementById('app')!
    .replaceWith(
      h(
        'div',
        { class: 'layout', id: 'app' },
        h(
          'aside',
          { class: 'sidebar' },
          h(
            'div',
            { class: 'sidebar-inner' },
            h('a', { href: '#/overview', class: 'brand' }, h('span', { class: 'brand-mark' }, '≋'), 'Weir'),
            nav,
          ),
        ),
        h(
          'div',
          { class: 'content' },
          h('header', { class: 'topbar' }, title, version),
          h('div', { id: 'banners', class: 'banners' }),
          main,
        ),
      ),
    );
  return { main, title, version, links };
}

const ui = shell();
startRouter(routes, ui.main, (route, title) => {
  ui.title.textContent = title;
  document.title = `${title} · Weir`;
  for (const [id, a] of ui.links) a.classList.toggle('active', id === route.nav);
});
rest
  .overview()
  .then((o) => (ui.version.textContent = o['weir-version'] ? `Weir ${o['weir-version']}` : ''))
  .catch(() => undefined);
