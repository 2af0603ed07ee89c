// An endless click stream: a rate-limited generator of click events, keyed by user, with a
// running click count per user printed as it changes. `npm start` runs it on a local cluster.
//   weir run endless.weir -- 500    (clicks per second, default 200)
import { DataGeneratorSource, RateLimiterStrategy, WatermarkStrategy, type StreamExecutionEnvironment } from 'weir';

export interface Click {
  user: string;
  page: string;
  ts: number;
}

export interface UserClicks {
  user: string;
  clicks: number;
}

const USERS = 50;
const PAGES = ['/', '/products', '/cart', '/checkout', '/help', '/about'];

function click(index: number): Click {
  // Knuth's multiplicative hash spreads consecutive indexes over users and pages.
  const h = Math.imul(index + 1, 2654435761) >>> 0;
  return { user: `user-${h % USERS}`, page: PAGES[(h >>> 8) % PAGES.length]!, ts: Date.now() };
}

export default async function main(env: StreamExecutionEnvironment, args: string[]): Promise<void> {
  const rate = Number(args[0] ?? 200);
  const clicks = new DataGeneratorSource(click, Infinity, RateLimiterStrategy.perSecond(rate));

  env
    .fromSource(clicks, WatermarkStrategy.noWatermarks(), 'Clicks')
    .uid('clicks-source')
    .map((c): UserClicks => ({ user: c.user, clicks: 1 }))
    .keyBy((c) => c.user)
    .reduce((a, b) => ({ user: a.user, clicks: a.clicks + b.clicks }))
    .uid('clicks-per-user')
    .name('Clicks per user')
    .print();
  await env.execute('Endless clicks');
}
