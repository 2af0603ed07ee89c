// The rules pattern with broadcast state: rule changes (puts and removes) broadcast from a
// non-parallel source to a keyed stream of events. Each event is held per key until a timer at
// the final watermark, then matched against the rules in force: by then every instance has seen
// every change, so the output does not depend on timing.
//   args: <outDir> <JInputParams as JSON> <boundMs> <ruleSeed> <ruleCount>
// Matches go to <outDir>/results.
import {
  DataGeneratorSource,
  FileSink,
  KeyedBroadcastProcessFunction,
  MapStateDescriptor,
  WatermarkStrategy,
  type Collector,
  type KeyedBroadcastContext,
  type KeyedBroadcastOnTimerContext,
  type KeyedBroadcastReadOnlyContext,
  type StreamExecutionEnvironment,
} from 'weir';
import { jRecord, matchLine, ruleChanges, ruleMatches, type JInputParams, type JRecord, type Rule } from './j-input.js';

const rulesState = new MapStateDescriptor<string, Rule>('rules');
// Beyond every record's timestamp: fires with the final watermark only.
const END_OF_INPUT = Number.MAX_SAFE_INTEGER - 1;

class RuleMatcher extends KeyedBroadcastProcessFunction<number, JRecord, Rule, string> {
  private readonly pending = new Map<number, JRecord[]>();

  processElement(r: JRecord, ctx: KeyedBroadcastReadOnlyContext<number>, out: Collector<string>): void {
    let list = this.pending.get(ctx.getCurrentKey());
    if (!list) {
      this.pending.set(ctx.getCurrentKey(), (list = []));
      // The non-broadcast side must not change broadcast state: instances would diverge.
      let wrote = true;
      try {
        (ctx.getBroadcastState(rulesState) as unknown as { put(k: string, v: Rule): void }).put('forged', {
          op: 'put',
          id: 'forged',
          modulus: 1,
          remainder: 0,
        });
      } catch {
        wrote = false;
      }
      if (wrote) out.collect(`WRITABLE on the non-broadcast side for key ${ctx.getCurrentKey()}`);
    }
    list.push(r);
    ctx.timerService().registerEventTimeTimer(END_OF_INPUT);
  }

  processBroadcastElement(rule: Rule, ctx: KeyedBroadcastContext, _out: Collector<string>): void {
    const state = ctx.getBroadcastState(rulesState);
    if (rule.op === 'put') state.put(rule.id, rule);
    else state.remove(rule.id);
  }

  override onTimer(_time: number, ctx: KeyedBroadcastOnTimerContext<number>, out: Collector<string>): void {
    const rules = [...ctx.getBroadcastState(rulesState).entries()];
    for (const r of this.pending.get(ctx.getCurrentKey()) ?? []) {
      for (const [id, rule] of rules) if (ruleMatches(rule, r)) out.collect(matchLine(r, id));
    }
    this.pending.delete(ctx.getCurrentKey());
  }
}

export default function main(env: StreamExecutionEnvironment, args: string[]): void {
  const [outDir, json, bound, ruleSeed, ruleCount] = args;
  if (!outDir || !json || !bound || !ruleSeed || !ruleCount)
    throw new Error('usage: j-broadcast <outDir> <input JSON> <boundMs> <ruleSeed> <ruleCount>');
  const input = JSON.parse(json) as JInputParams;
  const strategy = WatermarkStrategy.forBoundedOutOfOrderness<JRecord>(Number(bound)).withTimestampAssigner(
    (r: JRecord) => r.ts,
  );
  const events = env
    .fromSource(new DataGeneratorSource((i: number) => jRecord(0, i, input), input.left.count), strategy, 'Events')
    .uid('events');
  const rules = env
    .fromElements(...ruleChanges(Number(ruleSeed), Number(ruleCount)))
    .name('Rules')
    .broadcast(rulesState);
  events
    .keyBy((r: JRecord) => r.key)
    .connect(rules)
    .process(new RuleMatcher())
    .uid('rule-matcher')
    .name('Match rules')
    .sinkTo(FileSink.forRowFormat<string>(`${outDir}/results`).build())
    .name('Results');
  void env.execute('Joins: broadcast rules');
}
