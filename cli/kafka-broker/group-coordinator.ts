// The group coordinator: Kafka's classic consumer-group protocol (JoinGroup, SyncGroup,
// Heartbeat, LeaveGroup) with its states Empty -> PreparingRebalance -> CompletingRebalance ->
// Stable, session and rebalance timeouts, and the committed offsets of every group (members or
// not: a "simple" consumer commits with generation -1 while the group has no members, as
// Flink's Kafka source does). Offsets and generations are journaled to disk; the journal is
// compacted to the live state whenever it has grown several times past it (a long run commits
// offsets at every checkpoint).
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { ErrorCode } from '../../common/kafka/protocol/errors.js';
import type { Logger } from '../../common/logging.js';
import { Journal } from './journal.js';
import type { LogManager } from './log-manager.js';

type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

interface JoinResult {
  errorCode: number;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leader: string;
  memberId: string;
  members: { memberId: string; groupInstanceId: string | null; metadata: Buffer }[];
}

interface Member {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocolType: string;
  protocols: { name: string; metadata: Buffer }[];
  assignment: Buffer;
  lastHeartbeat: number;
  joinResolve?: (r: JoinResult) => void;
  syncResolve?: (r: { errorCode: number; assignment: Buffer }) => void;
}

export interface CommittedOffset {
  offset: number;
  metadata: string | null;
  leaderEpoch: number;
}

interface Group {
  groupId: string;
  state: GroupState;
  generationId: number;
  protocolType: string;
  protocolName: string | null;
  leaderId: string;
  members: Map<string, Member>;
  offsets: Map<string, Map<number, CommittedOffset>>;
  rebalanceTimer?: NodeJS.Timeout;
  initialDelayTimer?: NodeJS.Timeout;
}

type JournalEntry =
  | { t: 'o'; g: string; topic: string; p: number; o: number; m: string | null; e: number }
  | { t: 'gen'; g: string; gen: number; type: string };

export interface GroupCoordinatorOptions {
  /** group.initial.rebalance.delay.ms: how long a new group waits for more members (0 for dev use). */
  initialRebalanceDelayMs: number;
  minSessionTimeoutMs: number;
  maxSessionTimeoutMs: number;
}

export interface ClientContext {
  clientId: string;
  clientHost: string;
}

export class GroupCoordinator {
  private readonly groups = new Map<string, Group>();
  private readonly journal: Journal<JournalEntry>;
  private readonly ticker: NodeJS.Timeout;

  constructor(
    dir: string,
    private readonly logs: LogManager,
    private readonly opts: GroupCoordinatorOptions,
    private readonly log: Logger,
  ) {
    this.journal = new Journal(join(dir, 'consumer-offsets.journal'));
    for (const e of this.journal.load()) {
      const g = this.group(e.g);
      if (e.t === 'o') {
        let byTopic = g.offsets.get(e.topic);
        if (!byTopic) g.offsets.set(e.topic, (byTopic = new Map()));
        byTopic.set(e.p, { offset: e.o, metadata: e.m, leaderEpoch: e.e });
      } else {
        g.generationId = e.gen;
        g.protocolType = e.type;
      }
    }
    this.journal.rewrite(this.snapshot());
    this.ticker = setInterval(() => this.expireSessions(), 250);
    this.ticker.unref();
  }

  /** Journals a change; the journal is compacted once it has grown well past the live state. */
  private append(e: JournalEntry): void {
    this.journal.append(e);
    if (this.journal.shouldCompact) this.journal.rewrite(this.snapshot());
  }

  private snapshot(): JournalEntry[] {
    const out: JournalEntry[] = [];
    for (const g of this.groups.values()) {
      if (g.generationId > 0) out.push({ t: 'gen', g: g.groupId, gen: g.generationId, type: g.protocolType });
      for (const [topic, parts] of g.offsets)
        for (const [p, c] of parts)
          out.push({ t: 'o', g: g.groupId, topic, p, o: c.offset, m: c.metadata, e: c.leaderEpoch });
    }
    return out;
  }

  private group(groupId: string): Group {
    let g = this.groups.get(groupId);
    if (!g) {
      g = {
        groupId,
        state: 'Empty',
        generationId: 0,
        protocolType: '',
        protocolName: null,
        leaderId: '',
        members: new Map(),
        offsets: new Map(),
      };
      this.groups.set(groupId, g);
    }
    return g;
  }

  // ------------------------------------------------------------------------------------------
  // Membership

  join(
    req: {
      groupId: string;
      sessionTimeoutMs: number;
      rebalanceTimeoutMs: number;
      memberId: string;
      groupInstanceId: string | null;
      protocolType: string;
      protocols: { name: string; metadata: Buffer }[];
    },
    ctx: ClientContext,
  ): Promise<JoinResult> {
    const fail = (errorCode: number, memberId = req.memberId): Promise<JoinResult> =>
      Promise.resolve({
        errorCode,
        generationId: -1,
        protocolType: null,
        protocolName: null,
        leader: '',
        memberId,
        members: [],
      });
    if (!req.groupId) return fail(ErrorCode.INVALID_GROUP_ID);
    if (req.sessionTimeoutMs < this.opts.minSessionTimeoutMs || req.sessionTimeoutMs > this.opts.maxSessionTimeoutMs)
      return fail(ErrorCode.INVALID_SESSION_TIMEOUT);
    if (req.protocols.length === 0 || !req.protocolType) return fail(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    const g = this.group(req.groupId);
    if (g.members.size > 0) {
      const others = [...g.members.values()].filter((m) => m.memberId !== req.memberId);
      const compatible =
        (others.length === 0 || g.protocolType === req.protocolType) &&
        req.protocols.some((p) => others.every((m) => m.protocols.some((q) => q.name === p.name)));
      if (!compatible) return fail(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    }
    let member: Member | undefined;
    if (req.memberId === '') {
      const memberId = `${ctx.clientId || 'member'}-${randomUUID()}`;
      member = {
        memberId,
        groupInstanceId: req.groupInstanceId,
        clientId: ctx.clientId,
        clientHost: ctx.clientHost,
        sessionTimeoutMs: req.sessionTimeoutMs,
        rebalanceTimeoutMs: req.rebalanceTimeoutMs > 0 ? req.rebalanceTimeoutMs : req.sessionTimeoutMs,
        protocolType: req.protocolType,
        protocols: req.protocols,
        assignment: Buffer.alloc(0),
        lastHeartbeat: Date.now(),
      };
      g.members.set(memberId, member);
      this.log.info({ group: g.groupId, member: memberId, clientId: ctx.clientId }, 'member joined the group');
    } else {
      member = g.members.get(req.memberId);
      if (!member) return fail(ErrorCode.UNKNOWN_MEMBER_ID);
      member.protocols = req.protocols;
      member.sessionTimeoutMs = req.sessionTimeoutMs;
      member.rebalanceTimeoutMs = req.rebalanceTimeoutMs > 0 ? req.rebalanceTimeoutMs : req.sessionTimeoutMs;
      member.lastHeartbeat = Date.now();
    }
    if (g.members.size === 1) g.protocolType = req.protocolType;
    const m = member;
    const result = new Promise<JoinResult>((resolve) => {
      if (m.joinResolve)
        m.joinResolve({
          errorCode: ErrorCode.REBALANCE_IN_PROGRESS,
          generationId: -1,
          protocolType: null,
          protocolName: null,
          leader: '',
          memberId: m.memberId,
          members: [],
        });
      m.joinResolve = resolve;
    });
    if (g.state !== 'PreparingRebalance') this.prepareRebalance(g, `member ${m.memberId} joining`);
    this.checkJoinComplete(g);
    return result;
  }

  private prepareRebalance(g: Group, reason: string): void {
    for (const m of g.members.values()) {
      if (m.syncResolve) {
        m.syncResolve({ errorCode: ErrorCode.REBALANCE_IN_PROGRESS, assignment: Buffer.alloc(0) });
        m.syncResolve = undefined;
      }
    }
    const wasEmpty = g.state === 'Empty';
    g.state = 'PreparingRebalance';
    this.log.info({ group: g.groupId, generation: g.generationId, reason }, 'preparing to rebalance the group');
    clearTimeout(g.rebalanceTimer);
    const timeout = Math.max(0, ...[...g.members.values()].map((m) => m.rebalanceTimeoutMs));
    g.rebalanceTimer = setTimeout(() => this.completeJoin(g), timeout);
    if (wasEmpty && this.opts.initialRebalanceDelayMs > 0) {
      clearTimeout(g.initialDelayTimer);
      g.initialDelayTimer = setTimeout(
        () => {
          g.initialDelayTimer = undefined;
          this.checkJoinComplete(g);
        },
        Math.min(this.opts.initialRebalanceDelayMs, timeout),
      );
    }
  }

  private checkJoinComplete(g: Group): void {
    if (g.state !== 'PreparingRebalance' || g.initialDelayTimer) return;
    for (const m of g.members.values()) if (!m.joinResolve) return;
    this.completeJoin(g);
  }

  private completeJoin(g: Group): void {
    if (g.state !== 'PreparingRebalance') return;
    clearTimeout(g.rebalanceTimer);
    clearTimeout(g.initialDelayTimer);
    g.rebalanceTimer = undefined;
    g.initialDelayTimer = undefined;
    for (const m of [...g.members.values()]) {
      if (!m.joinResolve) {
        this.log.info(
          { group: g.groupId, member: m.memberId },
          'member did not rejoin within the rebalance timeout; removed',
        );
        g.members.delete(m.memberId);
      }
    }
    g.generationId++;
    if (g.members.size === 0) {
      g.state = 'Empty';
      g.protocolName = null;
      g.leaderId = '';
      this.append({ t: 'gen', g: g.groupId, gen: g.generationId, type: g.protocolType });
      return;
    }
    const members = [...g.members.values()];
    const candidates = members[0]!.protocols
      .map((p) => p.name)
      .filter((name) => members.every((m) => m.protocols.some((p) => p.name === name)));
    const votes = new Map<string, number>();
    for (const m of members) {
      const choice = m.protocols.find((p) => candidates.includes(p.name));
      if (choice) votes.set(choice.name, (votes.get(choice.name) ?? 0) + 1);
    }
    let protocolName = candidates[0] ?? members[0]!.protocols[0]!.name;
    let best = -1;
    for (const c of candidates) {
      const v = votes.get(c) ?? 0;
      if (v > best) {
        best = v;
        protocolName = c;
      }
    }
    g.protocolName = protocolName;
    if (!g.members.has(g.leaderId)) g.leaderId = members[0]!.memberId;
    g.state = 'CompletingRebalance';
    this.append({ t: 'gen', g: g.groupId, gen: g.generationId, type: g.protocolType });
    this.log.info(
      {
        group: g.groupId,
        generation: g.generationId,
        members: members.length,
        leader: g.leaderId,
        protocol: protocolName,
      },
      'group rebalanced',
    );
    const memberList = members.map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      metadata: m.protocols.find((p) => p.name === protocolName)?.metadata ?? Buffer.alloc(0),
    }));
    const now = Date.now();
    for (const m of members) {
      m.lastHeartbeat = now;
      const resolve = m.joinResolve!;
      m.joinResolve = undefined;
      resolve({
        errorCode: ErrorCode.NONE,
        generationId: g.generationId,
        protocolType: g.protocolType,
        protocolName,
        leader: g.leaderId,
        memberId: m.memberId,
        members: m.memberId === g.leaderId ? memberList : [],
      });
    }
  }

  sync(req: {
    groupId: string;
    generationId: number;
    memberId: string;
    assignments: { memberId: string; assignment: Buffer }[];
  }): Promise<{ errorCode: number; assignment: Buffer; protocolType: string | null; protocolName: string | null }> {
    const g = this.groups.get(req.groupId);
    const answer = (errorCode: number, assignment: Buffer = Buffer.alloc(0)) =>
      Promise.resolve({
        errorCode,
        assignment,
        protocolType: g?.protocolType ?? null,
        protocolName: g?.protocolName ?? null,
      });
    const m = g?.members.get(req.memberId);
    if (!g || !m) return answer(ErrorCode.UNKNOWN_MEMBER_ID);
    if (req.generationId !== g.generationId) return answer(ErrorCode.ILLEGAL_GENERATION);
    if (g.state === 'PreparingRebalance') return answer(ErrorCode.REBALANCE_IN_PROGRESS);
    m.lastHeartbeat = Date.now();
    if (g.state === 'Stable') return answer(ErrorCode.NONE, m.assignment);
    // CompletingRebalance: the leader's assignment completes it; the others wait for it.
    const waiting = new Promise<{ errorCode: number; assignment: Buffer }>((resolve) => {
      m.syncResolve?.({ errorCode: ErrorCode.REBALANCE_IN_PROGRESS, assignment: Buffer.alloc(0) });
      m.syncResolve = resolve;
    });
    if (req.memberId === g.leaderId) {
      const byMember = new Map(req.assignments.map((a) => [a.memberId, a.assignment]));
      g.state = 'Stable';
      for (const member of g.members.values()) {
        member.assignment = byMember.get(member.memberId) ?? Buffer.alloc(0);
        const resolve = member.syncResolve;
        member.syncResolve = undefined;
        resolve?.({ errorCode: ErrorCode.NONE, assignment: member.assignment });
      }
      this.log.info({ group: g.groupId, generation: g.generationId }, 'group is stable');
    }
    return waiting.then((r) => ({ ...r, protocolType: g.protocolType, protocolName: g.protocolName }));
  }

  heartbeat(req: { groupId: string; generationId: number; memberId: string }): number {
    const g = this.groups.get(req.groupId);
    const m = g?.members.get(req.memberId);
    if (!g || !m) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (req.generationId !== g.generationId) return ErrorCode.ILLEGAL_GENERATION;
    m.lastHeartbeat = Date.now();
    if (g.state === 'PreparingRebalance') return ErrorCode.REBALANCE_IN_PROGRESS;
    return ErrorCode.NONE;
  }

  leave(groupId: string, memberIds: string[]): { memberId: string; errorCode: number }[] {
    const g = this.groups.get(groupId);
    const out = memberIds.map((memberId) => {
      const m = g?.members.get(memberId);
      if (!g || !m) return { memberId, errorCode: ErrorCode.UNKNOWN_MEMBER_ID };
      this.removeMember(g, m, 'left the group');
      return { memberId, errorCode: ErrorCode.NONE };
    });
    if (g) this.afterRemoval(g, 'a member left');
    return out;
  }

  private removeMember(g: Group, m: Member, why: string): void {
    g.members.delete(m.memberId);
    this.log.info({ group: g.groupId, member: m.memberId }, `member ${why}`);
    m.joinResolve?.({
      errorCode: ErrorCode.UNKNOWN_MEMBER_ID,
      generationId: -1,
      protocolType: null,
      protocolName: null,
      leader: '',
      memberId: m.memberId,
      members: [],
    });
    m.syncResolve?.({ errorCode: ErrorCode.UNKNOWN_MEMBER_ID, assignment: Buffer.alloc(0) });
    m.joinResolve = undefined;
    m.syncResolve = undefined;
  }

  private afterRemoval(g: Group, reason: string): void {
    if (g.state === 'PreparingRebalance') this.checkJoinComplete(g);
    else if (g.members.size === 0) {
      if (g.state !== 'Empty') {
        g.state = 'Empty';
        g.generationId++;
        g.protocolName = null;
        g.leaderId = '';
        this.append({ t: 'gen', g: g.groupId, gen: g.generationId, type: g.protocolType });
      }
    } else if (g.state === 'Stable' || g.state === 'CompletingRebalance') this.prepareRebalance(g, reason);
  }

  private expireSessions(): void {
    const now = Date.now();
    for (const g of this.groups.values()) {
      let removed = false;
      for (const m of [...g.members.values()]) {
        if (m.joinResolve) continue; // waiting for the rebalance: the rebalance timeout applies
        if (now - m.lastHeartbeat > m.sessionTimeoutMs) {
          this.removeMember(g, m, `expired (no heartbeat for ${m.sessionTimeoutMs} ms)`);
          removed = true;
        }
      }
      if (removed) this.afterRemoval(g, 'a member session expired');
    }
  }

  // ------------------------------------------------------------------------------------------
  // Offsets

  /** Checks a commit's member and generation: an error code, or NONE. */
  checkCommit(groupId: string, generationId: number, memberId: string): number {
    const g = this.groups.get(groupId);
    if (generationId < 0 && memberId === '') {
      // A simple consumer (no group management): only while the group has no members.
      return !g || g.members.size === 0 ? ErrorCode.NONE : ErrorCode.UNKNOWN_MEMBER_ID;
    }
    if (!g) return generationId < 0 ? ErrorCode.NONE : ErrorCode.UNKNOWN_MEMBER_ID;
    if (g.state === 'CompletingRebalance') return ErrorCode.REBALANCE_IN_PROGRESS;
    if (!g.members.has(memberId)) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (generationId !== g.generationId) return ErrorCode.ILLEGAL_GENERATION;
    return ErrorCode.NONE;
  }

  commit(groupId: string, topic: string, partition: number, c: CommittedOffset): void {
    const g = this.group(groupId);
    let byTopic = g.offsets.get(topic);
    if (!byTopic) g.offsets.set(topic, (byTopic = new Map()));
    byTopic.set(partition, c);
    this.append({ t: 'o', g: groupId, topic, p: partition, o: c.offset, m: c.metadata, e: c.leaderEpoch });
  }

  committed(groupId: string, topic: string, partition: number): CommittedOffset | undefined {
    return this.groups.get(groupId)?.offsets.get(topic)?.get(partition);
  }

  /** Every committed offset of a group, by topic. */
  allCommitted(groupId: string): Map<string, Map<number, CommittedOffset>> {
    return this.groups.get(groupId)?.offsets ?? new Map();
  }

  hasTopicPartition(topic: string, partition: number): boolean {
    return this.logs.partition(topic, partition) !== undefined;
  }

  // ------------------------------------------------------------------------------------------
  // Listing

  list(): { groupId: string; protocolType: string; groupState: string }[] {
    return [...this.groups.values()].map((g) => ({
      groupId: g.groupId,
      protocolType: g.protocolType,
      groupState: g.state,
    }));
  }

  describe(groupId: string) {
    const g = this.groups.get(groupId);
    if (!g)
      return {
        errorCode: ErrorCode.NONE,
        groupId,
        groupState: 'Dead',
        protocolType: '',
        protocolData: '',
        members: [],
      };
    return {
      errorCode: ErrorCode.NONE,
      groupId,
      groupState: g.state,
      protocolType: g.protocolType,
      protocolData: g.protocolName ?? '',
      members: [...g.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        memberMetadata: m.protocols.find((p) => p.name === g.protocolName)?.metadata ?? Buffer.alloc(0),
        memberAssignment: m.assignment,
      })),
    };
  }

  flush(): void {
    this.journal.flush();
  }

  close(): void {
    clearInterval(this.ticker);
    for (const g of this.groups.values()) {
      clearTimeout(g.rebalanceTimer);
      clearTimeout(g.initialDelayTimer);
    }
    this.journal.flush();
    this.journal.close();
  }
}
