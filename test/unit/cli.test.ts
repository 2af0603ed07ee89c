// Runs bin/weir.js, which loads the compiled CLI from dist/ (relies on `npm test`'s pretest build),
// and the commander program itself for the help texts.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProgram, loadCommands } from '../../cli/main.js';
import { createBundle } from '../../common/bundle.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(root, 'bin', 'weir.js');

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function weir(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { env: { ...process.env, WEIR_JOBMANAGER: '', ...env }, timeout: 30_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

function stderrLines(r: Result): string[] {
  return r.stderr.split('\n').filter((l) => l.trim());
}

async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return `http://127.0.0.1:${port}`;
}

describe('weir CLI', () => {
  let dir: string;

  beforeAll(() => {
    if (!existsSync(join(root, 'dist', 'cli', 'main.js')))
      throw new Error('dist/cli/main.js is missing: run npm run build first');
    dir = mkdtempSync(join(tmpdir(), 'weir-cli-test-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const commands = [
    ['cluster', 'start'],
    ['cluster'],
    ['jobmanager'],
    ['taskmanager'],
    ['bundle'],
    ['info'],
    ['run'],
    ['list'],
    ['cancel'],
    ['stop'],
    ['savepoint'],
    ['apply'],
    ['diff'],
    ['get'],
    [],
  ];
  // In this process (a CLI start per command would cost a second each); bin/weir.js is run below.
  it.each(commands.map((cmd) => ({ cmd, name: ['weir', ...cmd].join(' ') })))(
    '$name --help exits 0 and describes the command',
    async ({ cmd }) => {
      const program = buildProgram(await loadCommands(['node', 'weir', ...cmd]));
      let out = '';
      const capture = (c: Command) => {
        c.configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (out += s) });
        c.commands.forEach(capture);
      };
      capture(program);
      const error = await program.parseAsync([...cmd, '--help'], { from: 'user' }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(CommanderError);
      expect((error as CommanderError).exitCode).toBe(0);
      expect(out).toContain(`Usage: weir${cmd.length ? ' ' + cmd.join(' ') : ''}`);
    },
  );

  it('bin/weir.js --help exits 0', async () => {
    const r = await weir(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: weir');
  });

  it('--version prints the engine version', async () => {
    const r = await weir(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('an unknown command or option fails with a usage error', async () => {
    const r = await weir(['lsit']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/unknown command 'lsit'/);
    const r2 = await weir(['list', '--bogus']);
    expect(r2.code).not.toBe(0);
    expect(stderrLines(r2)[0]).toBe("error: unknown option '--bogus'");
  });

  it.each([
    ['list'],
    ['cancel', '0123456789abcdef0123456789abcdef'],
    ['savepoint', '0123456789abcdef0123456789abcdef'],
  ])('%s against a closed port exits non-zero with one line on stderr', async (...cmd) => {
    const url = await closedPortUrl();
    const r = await weir([...cmd, '--jobmanager', url]);
    expect(r.code).not.toBe(0);
    expect(stderrLines(r)).toEqual([`error: cannot reach the JobManager at ${url}: connection refused`]);
  });

  it('takes the JobManager address from WEIR_JOBMANAGER', async () => {
    const url = await closedPortUrl();
    const r = await weir(['list'], { WEIR_JOBMANAGER: url });
    expect(stderrLines(r)).toEqual([`error: cannot reach the JobManager at ${url}: connection refused`]);
  });

  it('checks job ids before asking the JobManager', async () => {
    const r = await weir(['cancel', 'not-a-job']);
    expect(r.code).toBe(1);
    expect(stderrLines(r)).toEqual(["error: invalid job id 'not-a-job' (expected 32 hex characters)"]);
  });

  it('run refuses a file that is not a bundle before uploading it', async () => {
    const junk = join(dir, 'junk.weir');
    writeFileSync(junk, 'hello');
    const r = await weir(['run', junk, '--jobmanager', await closedPortUrl()]);
    expect(r.code).toBe(1);
    expect(stderrLines(r)).toEqual(['error: not a Weir bundle: not a gzip file']);
  });

  it('bundle then info shows the plan; a main() that throws fails info', async () => {
    const job = join(dir, 'clicks.ts');
    writeFileSync(
      job,
      `import type { StreamExecutionEnvironment } from 'weir';
       export default function main(env: StreamExecutionEnvironment, args: string[]) {
         if (args[0] === 'fail') throw new Error('refusing to plan');
         env.fromSequence(1, 100).keyBy((x) => x % 7).reduce((a, b) => a + b).uid('totals').print();
       }`,
    );
    const out = join(dir, 'clicks.weir');
    const b = await weir(['bundle', job, '-o', out, '--name', 'clicks', '--version', '1.2.3']);
    expect(b.code).toBe(0);
    expect(b.stdout).toMatch(/^Wrote .*clicks\.weir \(clicks 1\.2\.3, id [0-9a-f]{64}\)/);

    const info = await weir(['info', out, '-p', '2', '--json']);
    expect(info.code).toBe(0);
    const parsed = JSON.parse(info.stdout);
    expect(parsed.manifest).toMatchObject({ name: 'clicks', version: '1.2.3' });
    expect(parsed.jobGraph.name).toBe('clicks');
    expect(parsed.jobGraph.vertices.map((v: { parallelism: number }) => v.parallelism)).toEqual([2, 2]);

    const text = await weir(['info', out, '-p', '2']);
    expect(text.stdout).toMatch(/PARTITIONER\n.*HASH/);

    const failed = await weir(['info', out, '--', 'fail']);
    expect(failed.code).toBe(1);
    expect(stderrLines(failed)[0]).toBe('error: job main() threw: refusing to plan');
  });

  it('bundle reports a missing entry file in one line', async () => {
    const r = await weir(['bundle', join(dir, 'absent.ts'), '-o', join(dir, 'absent.weir')]);
    expect(r.code).toBe(1);
    expect(stderrLines(r)).toEqual([`error: no such file: ${join(dir, 'absent.ts')}`]);
  });

  describe('against a Flink-shaped REST API', () => {
    let server: Server;
    let url: string;
    let bundlePath: string;
    const requests: { method: string; url: string; body: string; contentType: string }[] = [];
    let jobStates: string[] = [];

    function reply(res: ServerResponse, status: number, body: unknown) {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    }

    const JOB = 'aaaabbbbccccddddeeeeffff00001111';
    /** A JobManager with savepoints (Flink's asynchronous operations), switched on per test. */
    let withSavepoints = false;
    /** Status polls answered IN_PROGRESS before the outcome. */
    let pending = 0;
    let outcome: Record<string, unknown> = {};
    function operation(res: ServerResponse) {
      if (pending-- > 0) return reply(res, 200, { status: { id: 'IN_PROGRESS' } });
      return reply(res, 200, { status: { id: 'COMPLETED' }, operation: outcome });
    }
    function handle(req: IncomingMessage, res: ServerResponse, body: string) {
      requests.push({ method: req.method!, url: req.url!, body, contentType: req.headers['content-type'] ?? '' });
      const route = `${req.method} ${req.url}`;
      if (withSavepoints) {
        if (
          route === `POST /jobs/${JOB}/savepoints` ||
          route === `POST /jobs/${JOB}/stop` ||
          route === 'POST /savepoint-disposal'
        )
          return reply(res, 202, { 'request-id': 'trig1' });
        if (route === `GET /jobs/${JOB}/savepoints/trig1` || route === 'GET /savepoint-disposal/trig1')
          return operation(res);
        if (req.method === 'POST' && req.url!.startsWith('/jobs/'))
          return reply(res, 404, { errors: ['job 0123456789abcdef0123456789abcdef not found'] });
      }
      if (route === 'POST /jars/upload')
        return reply(res, 200, { filename: '/tmp/flink-web/jars/abc_job.weir', status: 'success' });
      if (route === 'POST /jars/abc_job.weir/run') return reply(res, 200, { jobid: JOB });
      if (route === `GET /jobs/${JOB}`)
        return reply(res, 200, { jid: JOB, state: jobStates.length > 1 ? jobStates.shift() : jobStates[0] });
      if (route === `GET /jobs/${JOB}/exceptions`)
        return reply(res, 200, {
          'root-exception': 'java.lang.Boom: the sink broke\n\tat somewhere',
          exceptionHistory: { entries: [] },
        });
      if (route === 'GET /jobs/overview') {
        return reply(res, 200, {
          jobs: [
            { jid: JOB, name: 'Running one', state: 'RUNNING', 'start-time': Date.now() - 65_000, duration: 65_000 },
            {
              jid: '11112222333344445555666677778888',
              name: 'Done one',
              state: 'FINISHED',
              'start-time': Date.now() - 1e6,
              duration: 4_000,
            },
          ],
        });
      }
      if (route === `PATCH /jobs/${JOB}?mode=cancel`) return reply(res, 202, {});
      if (req.method === 'PATCH') return reply(res, 404, { errors: ['Job could not be found.'] });
      return reply(res, 404, {
        message: `Route ${req.method}:${req.url} not found`,
        error: 'Not Found',
        statusCode: 404,
      });
    }

    beforeAll(async () => {
      server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('latin1')));
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const job = join(dir, 'rest-job.ts');
      writeFileSync(job, 'export default function main() {}\n');
      bundlePath = join(dir, 'rest-job.weir');
      await createBundle(job, bundlePath);
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));

    it('run uploads the bundle as jarfile, runs it with the args and waits until FINISHED', async () => {
      requests.length = 0;
      jobStates = ['CREATED', 'RUNNING', 'FINISHED'];
      const r = await weir(['run', bundlePath, '-p', '3', '--jobmanager', url, '--', '--input', 'x y']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Job has been submitted with JobID ${JOB}`);
      expect(r.stdout).toContain(`Job ${JOB} finished`);
      const upload = requests[0]!;
      expect(upload.url).toBe('/jars/upload');
      expect(upload.contentType).toMatch(/^multipart\/form-data/);
      expect(upload.body).toMatch(/name="jarfile"; filename="rest-job.weir"/);
      const run = requests[1]!;
      expect(run.url).toBe('/jars/abc_job.weir/run');
      expect(JSON.parse(run.body)).toEqual({ parallelism: 3, programArgsList: ['--input', 'x y'] });
      expect(requests.filter((q) => q.url === `/jobs/${JOB}`).length).toBe(3);
    });

    it('run --detached prints the job id and does not wait', async () => {
      requests.length = 0;
      const r = await weir([
        'run',
        bundlePath,
        '--detached',
        '--savepoint-path',
        '/sp/1',
        '--allow-non-restored-state',
        '--jobmanager',
        url,
      ]);
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toBe(`Job has been submitted with JobID ${JOB}`);
      expect(JSON.parse(requests[1]!.body)).toEqual({
        programArgsList: [],
        savepointPath: '/sp/1',
        allowNonRestoredState: true,
      });
      expect(requests.some((q) => q.url === `/jobs/${JOB}`)).toBe(false);
    });

    it('run exits non-zero with the root cause when the job fails', async () => {
      jobStates = ['RUNNING', 'FAILED'];
      const r = await weir(['run', bundlePath, '--jobmanager', url]);
      expect(r.code).toBe(1);
      expect(stderrLines(r)).toEqual([`error: job ${JOB} FAILED: java.lang.Boom: the sink broke`]);
    });

    it('list shows running jobs, --all every job', async () => {
      const r = await weir(['list', '--jobmanager', url]);
      expect(r.code).toBe(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines[0]).toMatch(/^JOB ID\s+NAME\s+STATE\s+START TIME\s+DURATION$/);
      expect(lines.slice(1)).toEqual([
        expect.stringMatching(
          new RegExp(`^${JOB}\\s+Running one\\s+RUNNING\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\s+1 min 5 s$`),
        ),
      ]);
      const all = await weir(['list', '--all', '--jobmanager', url]);
      expect(all.stdout.trim().split('\n').length).toBe(3);
      expect(all.stdout).toContain('FINISHED');
    });

    it('cancel sends PATCH ?mode=cancel; an unknown job is named in the error', async () => {
      const ok = await weir(['cancel', JOB, '--jobmanager', url]);
      expect(ok.code).toBe(0);
      expect(ok.stdout.trim()).toBe(`Cancelled job ${JOB}.`);
      const missing = await weir(['cancel', '0123456789abcdef0123456789abcdef', '--jobmanager', url]);
      expect(missing.code).toBe(1);
      expect(stderrLines(missing)).toEqual(['error: no job 0123456789abcdef0123456789abcdef on this JobManager']);
    });

    it('savepoint and stop say clearly when the JobManager has no savepoints', async () => {
      const sp = await weir(['savepoint', JOB, '--jobmanager', url]);
      expect(sp.code).toBe(1);
      expect(stderrLines(sp)).toEqual(['error: savepoint is not available on this JobManager yet']);
      const stop = await weir(['stop', JOB, '--jobmanager', url]);
      expect(stop.code).toBe(1);
      expect(stderrLines(stop)).toEqual(['error: stop with savepoint is not available on this JobManager yet']);
      const dispose = await weir(['savepoint', '--dispose', '/sp/savepoint-1', '--jobmanager', url]);
      expect(stderrLines(dispose)).toEqual(['error: savepoint disposal is not available on this JobManager yet']);
    });

    it("run passes Flink's -s/--fromSavepoint and -n/--allowNonRestoredState to the run request", async () => {
      for (const flags of [
        ['-s', '/sp/2', '-n'],
        ['--fromSavepoint', '/sp/2', '--allowNonRestoredState'],
      ]) {
        requests.length = 0;
        const r = await weir(['run', bundlePath, '-d', '-p', '2', ...flags, '--jobmanager', url]);
        expect(r.code).toBe(0);
        expect(JSON.parse(requests[1]!.body)).toEqual({
          programArgsList: [],
          parallelism: 2,
          savepointPath: '/sp/2',
          allowNonRestoredState: true,
        });
      }
      const both = await weir(['run', bundlePath, '-s', '/a', '--savepoint-path', '/b', '--jobmanager', url]);
      expect(both.code).not.toBe(0);
      expect(stderrLines(both)[0]).toMatch(
        /^error: option '--savepoint-path <path>' cannot be used with option '-s, --fromSavepoint <path>'/,
      );
    });

    describe('with savepoints on the JobManager', () => {
      beforeAll(() => {
        withSavepoints = true;
      });
      afterAll(() => {
        withSavepoints = false;
      });

      it('savepoint waits for the path and prints it', async () => {
        requests.length = 0;
        pending = 2;
        outcome = { location: '/sp/savepoint-aaaabb-123' };
        const r = await weir(['savepoint', JOB, '/sp', '--jobmanager', url]);
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        expect(r.stdout).toBe('Savepoint completed. Path: /sp/savepoint-aaaabb-123\n');
        expect(JSON.parse(requests[0]!.body)).toEqual({ 'cancel-job': false, 'target-directory': '/sp' });
        expect(requests.filter((q) => q.url === `/jobs/${JOB}/savepoints/trig1`).length).toBe(3);
      });

      it('a failed savepoint is one line with its cause; an unknown job is named', async () => {
        pending = 0;
        outcome = {
          'failure-cause': {
            class: 'SavepointException',
            'stack-trace': 'SavepointException: the job is RESTARTING\n\tat x',
          },
        };
        const r = await weir(['savepoint', JOB, '--jobmanager', url]);
        expect(r.code).toBe(1);
        expect(stderrLines(r)).toEqual(['error: savepoint failed: SavepointException: the job is RESTARTING']);
        const missing = await weir(['savepoint', '0123456789abcdef0123456789abcdef', '--jobmanager', url]);
        expect(stderrLines(missing)).toEqual(['error: no job 0123456789abcdef0123456789abcdef on this JobManager']);
      });

      it('savepoint --dispose posts the path and waits until it is gone', async () => {
        requests.length = 0;
        pending = 1;
        outcome = {};
        const r = await weir(['savepoint', '--dispose', '/sp/savepoint-1', '--jobmanager', url]);
        expect(r.code).toBe(0);
        expect(r.stdout).toBe("Savepoint '/sp/savepoint-1' disposed.\n");
        expect(requests.map((q) => `${q.method} ${q.url}`)).toEqual([
          'POST /savepoint-disposal',
          'GET /savepoint-disposal/trig1',
          'GET /savepoint-disposal/trig1',
        ]);
        expect(JSON.parse(requests[0]!.body)).toEqual({ 'savepoint-path': '/sp/savepoint-1' });
        pending = 0;
        outcome = {
          'failure-cause': {
            class: 'SavepointException',
            'stack-trace':
              'SavepointException: /sp/x is not a savepoint: it has no _metadata file (nothing was deleted)',
          },
        };
        const failed = await weir(['savepoint', '-d', '/sp/x', '--jobmanager', url]);
        expect(failed.code).toBe(1);
        expect(stderrLines(failed)).toEqual([
          'error: savepoint disposal failed: SavepointException: /sp/x is not a savepoint: it has no _metadata file (nothing was deleted)',
        ]);
      });

      it('savepoint needs a job id, or --dispose without one', async () => {
        const none = await weir(['savepoint', '--jobmanager', url]);
        expect(none.code).toBe(1);
        expect(stderrLines(none)).toEqual([
          'error: missing the job id: weir savepoint <jobid> [targetDirectory], or weir savepoint --dispose <path>',
        ]);
        const both = await weir(['savepoint', JOB, '--dispose', '/sp/1', '--jobmanager', url]);
        expect(stderrLines(both)).toEqual(['error: --dispose takes a savepoint path and no job id']);
        const bad = await weir(['savepoint', 'nope', '--jobmanager', url]);
        expect(stderrLines(bad)).toEqual(["error: invalid job id 'nope' (expected 32 hex characters)"]);
      });

      it("stop takes Flink's -p/--savepointPath and --drain, and the earlier --savepoint-path", async () => {
        for (const flags of [
          ['-p', '/sp', '-d'],
          ['--savepointPath', '/sp', '--drain'],
          ['--savepoint-path', '/sp', '--drain'],
        ]) {
          requests.length = 0;
          pending = 0;
          outcome = { location: '/sp/savepoint-aaaabb-9' };
          const r = await weir(['stop', JOB, ...flags, '--jobmanager', url]);
          expect(r.code).toBe(0);
          expect(r.stdout).toBe(`Job ${JOB} stopped. Savepoint: /sp/savepoint-aaaabb-9\n`);
          expect(requests[0]!.url).toBe(`/jobs/${JOB}/stop`);
          expect(JSON.parse(requests[0]!.body)).toEqual({ drain: true, targetDirectory: '/sp' });
        }
      });
    });
  });
});
