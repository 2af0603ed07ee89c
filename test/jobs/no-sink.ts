import type { StreamExecutionEnvironment } from 'weir';

export default function main(env: StreamExecutionEnvironment): void {
  env.fromSequence(1, 10).map((x: number) => x + 1);
}
