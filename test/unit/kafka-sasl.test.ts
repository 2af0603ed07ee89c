// SASL/PLAIN: the connectors' security properties (security.protocol, sasl.mechanism,
// sasl.jaas.config as Flink users write them), the PLAIN message on both sides, the broker's
// per-connection login state machine, and a KafkaConnection logging in to an in-process broker.
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authenticatePlain,
  INVALID_CREDENTIALS,
  parsePlainMessage,
  parseSaslUsers,
  SaslAuthenticator,
} from '../../cli/kafka-broker/sasl.js';
import { DEFAULT_BROKER_OPTIONS, startKafkaBroker, type KafkaBroker } from '../../cli/kafka-broker/server.js';
import {
  ApiKeys,
  decodeResponse,
  encodeRequest,
  ErrorCode,
  FrameReader,
  KafkaProtocolError,
} from '../../common/kafka/protocol/index.js';
import { KafkaConnection, saslPlainAuthBytes } from '../../common/kafka/protocol/connection.js';
import { silentLogger } from '../../common/logging.js';
import { KafkaClient } from '../../taskmanager/connectors/kafka/kafka-client.js';
import { kafkaSecurity, parseJaasConfig } from '../../taskmanager/connectors/kafka/kafka-security.js';

const PLAIN_MODULE = 'org.apache.kafka.common.security.plain.PlainLoginModule';

function sasl(jaas: string, extra: Record<string, string> = {}) {
  return kafkaSecurity(
    { 'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanism': 'PLAIN', 'sasl.jaas.config': jaas, ...extra },
    "KafkaSource 'in'",
  );
}

function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected an error');
}

describe('sasl.jaas.config', () => {
  it('parses the login module as Flink users write it', () => {
    const j = parseJaasConfig(`${PLAIN_MODULE} required username="alice" password="alice-secret";`);
    expect(j).toEqual({
      loginModule: PLAIN_MODULE,
      flag: 'required',
      options: new Map([
        ['username', 'alice'],
        ['password', 'alice-secret'],
      ]),
    });
  });

  it('accepts unquoted words, single quotes, comments, line breaks and any flag case', () => {
    const j = parseJaasConfig(
      `/* one */ ${PLAIN_MODULE}\n  REQUIRED // the flag\n  username=bob.smith-1 password='it s';  `,
    );
    expect(j.flag).toBe('required');
    expect(j.options.get('username')).toBe('bob.smith-1');
    // Two adjacent quoted strings are two tokens in Java's StreamTokenizer too: the second is not a value.
    expect(() => parseJaasConfig(`${PLAIN_MODULE} required password='a''b';`)).toThrow(/option name/);
    expect(parseJaasConfig(`${PLAIN_MODULE} optional password='single "quoted"';`).options.get('password')).toBe(
      'single "quoted"',
    );
  });

  it('unescapes backslash sequences inside quotes as StreamTokenizer does', () => {
    const j = parseJaasConfig(String.raw`${PLAIN_MODULE} required username="a\"b" password="c\\d\te\101\n;=x";`);
    expect(j.options.get('username')).toBe('a"b');
    expect(j.options.get('password')).toBe('c\\d\teA\n;=x');
  });

  it('refuses malformed configurations without quoting values', () => {
    expect(() => parseJaasConfig(`${PLAIN_MODULE} required username="a" password="topsecret"`)).toThrow(
      /does not end with ';'/,
    );
    expect(() => parseJaasConfig(`${PLAIN_MODULE} mandatory username="a";`)).toThrow(/control flag/);
    expect(() => parseJaasConfig(`${PLAIN_MODULE} required username=;`)).toThrow(
      /value not specified for key 'username'/,
    );
    expect(() => parseJaasConfig(`${PLAIN_MODULE} required username;`)).toThrow(
      /value not specified for key 'username'/,
    );
    expect(() => parseJaasConfig(`${PLAIN_MODULE} required a="1"; ${PLAIN_MODULE} required b="2";`)).toThrow(
      /2 login modules/,
    );
    expect(() => parseJaasConfig('')).toThrow(/0 login modules/);
    const unclosed = errorOf(() => parseJaasConfig(`${PLAIN_MODULE} required password="topsecret;`));
    expect(unclosed).toMatch(/not closed/);
    expect(unclosed).not.toContain('topsecret');
  });
});

describe("the connectors' security properties", () => {
  it('is PLAINTEXT without properties, and SASL/PLAIN with them', () => {
    expect(kafkaSecurity({})).toEqual({});
    expect(kafkaSecurity({ 'security.protocol': 'PLAINTEXT' })).toEqual({});
    expect(sasl(`${PLAIN_MODULE} required username="alice" password="pw";`)).toEqual({
      sasl: { mechanism: 'PLAIN', username: 'alice', password: 'pw' },
    });
    // Kafka's names are upper case; lower case is accepted too. A shaded module name also is.
    expect(
      kafkaSecurity({
        'security.protocol': 'sasl_plaintext',
        'sasl.mechanism': 'plain',
        'sasl.jaas.config': `org.apache.flink.kafka.shaded.${PLAIN_MODULE} required username="u" password="p";`,
      }),
    ).toEqual({ sasl: { mechanism: 'PLAIN', username: 'u', password: 'p' } });
  });

  it('refuses TLS, unknown protocols and mechanisms other than PLAIN clearly', () => {
    const jaas = `${PLAIN_MODULE} required username="u" password="hunter2";`;
    expect(errorOf(() => kafkaSecurity({ 'security.protocol': 'SSL' }, "KafkaSink 'out'"))).toBe(
      "KafkaSink 'out': security.protocol SSL (TLS) is not supported yet; use PLAINTEXT or SASL_PLAINTEXT",
    );
    expect(errorOf(() => sasl(jaas, { 'security.protocol': 'SASL_SSL' }))).toMatch(
      /SASL_SSL \(TLS\) is not supported yet/,
    );
    expect(errorOf(() => kafkaSecurity({ 'security.protocol': 'KERBEROS' }))).toMatch(
      /'KERBEROS' is not one of PLAINTEXT, SASL_PLAINTEXT, SSL, SASL_SSL/,
    );
    expect(errorOf(() => sasl(jaas, { 'sasl.mechanism': 'SCRAM-SHA-256' }))).toMatch(
      /sasl.mechanism SCRAM-SHA-256 is not supported; only PLAIN is/,
    );
    expect(errorOf(() => kafkaSecurity({ 'security.protocol': 'SASL_PLAINTEXT', 'sasl.jaas.config': jaas }))).toMatch(
      /default GSSAPI .* set sasl.mechanism=PLAIN/,
    );
  });

  it('refuses incomplete or inconsistent settings, naming the property and never the password', () => {
    const messages = [
      errorOf(() =>
        kafkaSecurity({ 'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanism': 'PLAIN' }, "KafkaSource 'in'"),
      ),
      errorOf(() => kafkaSecurity({ 'sasl.jaas.config': `${PLAIN_MODULE} required username="u" password="hunter2";` })),
      errorOf(() =>
        sasl('org.apache.kafka.common.security.scram.ScramLoginModule required username="u" password="hunter2";'),
      ),
      errorOf(() => sasl(`${PLAIN_MODULE} required password="hunter2";`)),
      errorOf(() => sasl(`${PLAIN_MODULE} required username="u";`)),
      errorOf(() => sasl(`${PLAIN_MODULE} required username="u" password="hunter2"`)),
    ];
    expect(messages[0]).toMatch(/^KafkaSource 'in': security.protocol SASL_PLAINTEXT needs sasl.jaas.config/);
    expect(messages[1]).toMatch(/sasl.jaas.config is set but security.protocol is PLAINTEXT/);
    expect(messages[2]).toMatch(/ScramLoginModule, but sasl.mechanism PLAIN needs .*PlainLoginModule/);
    expect(messages[3]).toMatch(/no username/);
    expect(messages[4]).toMatch(/no password/);
    expect(messages[5]).toMatch(/^KafkaSource 'in': sasl.jaas.config: .*does not end with ';'/);
    for (const m of messages) expect(m).not.toContain('hunter2');
  });
});

describe('PLAIN messages', () => {
  it('are NUL, username, NUL, password in UTF-8 on the client', () => {
    expect(saslPlainAuthBytes('alice', 's€cret')).toEqual(
      Buffer.concat([Buffer.from([0]), Buffer.from('alice'), Buffer.from([0]), Buffer.from('s€cret', 'utf8')]),
    );
  });

  it("are checked by the broker with Kafka's messages", () => {
    const users = new Map([
      ['alice', 's€cret'],
      ['bob', 'pw'],
    ]);
    expect(parsePlainMessage(saslPlainAuthBytes('alice', 's€cret'))).toEqual({
      authzid: '',
      username: 'alice',
      password: 's€cret',
    });
    expect(authenticatePlain(users, saslPlainAuthBytes('alice', 's€cret'))).toBe('alice');
    expect(authenticatePlain(users, Buffer.from('bob\0bob\0pw'))).toBe('bob');
    expect(() => authenticatePlain(users, saslPlainAuthBytes('alice', 'wrong'))).toThrow(INVALID_CREDENTIALS);
    expect(() => authenticatePlain(users, saslPlainAuthBytes('mallory', 'pw'))).toThrow(INVALID_CREDENTIALS);
    expect(() => authenticatePlain(users, saslPlainAuthBytes('alice', 's€cre'))).toThrow(INVALID_CREDENTIALS);
    expect(() => authenticatePlain(users, Buffer.from('bob\0alice\0s€cret'))).toThrow(
      'Authentication failed: Client requested an authorization id that is different from username',
    );
    expect(() => authenticatePlain(users, Buffer.from('\0alice'))).toThrow(
      'Invalid SASL/PLAIN response: expected 3 tokens, got 2',
    );
    expect(() => authenticatePlain(users, Buffer.from('\0\0pw'))).toThrow(
      'Authentication failed: username not specified',
    );
    expect(() => authenticatePlain(users, Buffer.from('\0bob\0'))).toThrow(
      'Authentication failed: password not specified',
    );
  });

  it('users files hold username:password lines', () => {
    expect(parseSaslUsers('# users\nalice:a:b c\n\n  bob:pw\n')).toEqual(
      new Map([
        ['alice', 'a:b c'],
        ['bob', 'pw'],
      ]),
    );
    expect(() => parseSaslUsers('alice\n')).toThrow(/line 1: expected username:password/);
    expect(() => parseSaslUsers('alice:x\nalice:y')).toThrow(/line 2: user 'alice' is listed twice/);
    expect(() => parseSaslUsers('alice:')).toThrow(/empty password/);
    expect(() => parseSaslUsers('# nobody\n')).toThrow(/no users/);
  });
});

/** A socket stand-in recording what the session writes. */
class FakeSocket extends EventEmitter {
  written: Buffer[] = [];
  ended = false;
  destroyed = false;
  write(b: Buffer): boolean {
    this.written.push(b);
    return true;
  }
  end(b?: Buffer): this {
    if (b && b.length > 0) this.written.push(b);
    this.ended = true;
    return this;
  }
  destroy(): this {
    this.destroyed = true;
    return this;
  }
}

function request(apiKey: ApiKeys, apiVersion: number, body: object, correlationId = 1): Buffer {
  return encodeRequest({ apiKey, apiVersion, correlationId, clientId: 'test' }, body);
}

function lastResponse(s: FakeSocket, apiKey: ApiKeys, apiVersion: number): any {
  const frames = new FrameReader().push(s.written[s.written.length - 1]!);
  return decodeResponse(apiKey, apiVersion, frames[0]!).body;
}

describe("the broker's SASL session", () => {
  const users = new Map([['alice', 'secret']]);
  const session = (u: ReadonlyMap<string, string> | undefined = users) => {
    const socket = new FakeSocket();
    return { socket, s: new SaslAuthenticator(u).session(socket as unknown as Socket, silentLogger()) };
  };

  it('admits ApiVersions, answers SaslHandshake and SaslAuthenticate, then admits everything', () => {
    const { socket, s } = session();
    expect(s.admit(request(ApiKeys.ApiVersions, 2, {}))).toBe(true);
    expect(s.admit(request(ApiKeys.SaslHandshake, 1, { mechanism: 'PLAIN' }))).toBe(false);
    expect(lastResponse(socket, ApiKeys.SaslHandshake, 1)).toEqual({ errorCode: 0, mechanisms: ['PLAIN'] });
    expect(s.admit(request(ApiKeys.SaslAuthenticate, 1, { authBytes: saslPlainAuthBytes('alice', 'secret') }))).toBe(
      false,
    );
    expect(lastResponse(socket, ApiKeys.SaslAuthenticate, 1)).toMatchObject({
      errorCode: 0,
      errorMessage: null,
      sessionLifetimeMs: 0,
    });
    expect(s.principal).toBe('alice');
    expect(s.admit(request(ApiKeys.Metadata, 8, { topics: null }))).toBe(true);
    // A second handshake after the login: ILLEGAL_SASL_STATE, as Kafka answers.
    expect(s.admit(request(ApiKeys.SaslHandshake, 1, { mechanism: 'PLAIN' }))).toBe(false);
    expect(lastResponse(socket, ApiKeys.SaslHandshake, 1).errorCode).toBe(ErrorCode.ILLEGAL_SASL_STATE);
    expect(socket.destroyed || socket.ended).toBe(false);
  });

  it("answers a wrong password with error 58 and Kafka's message, then closes", () => {
    const { socket, s } = session();
    s.admit(request(ApiKeys.SaslHandshake, 1, { mechanism: 'PLAIN' }));
    expect(s.admit(request(ApiKeys.SaslAuthenticate, 0, { authBytes: saslPlainAuthBytes('alice', 'nope') }))).toBe(
      false,
    );
    expect(lastResponse(socket, ApiKeys.SaslAuthenticate, 0)).toMatchObject({
      errorCode: 58,
      errorMessage: INVALID_CREDENTIALS,
    });
    expect(socket.ended).toBe(true);
    expect(s.admit(request(ApiKeys.Metadata, 8, { topics: null }))).toBe(false);
  });

  it('closes the connection on any other request before the login, and on other mechanisms', () => {
    const a = session();
    expect(a.s.admit(request(ApiKeys.Metadata, 8, { topics: null }))).toBe(false);
    expect(a.socket.destroyed).toBe(true);
    const b = session();
    expect(b.s.admit(request(ApiKeys.SaslHandshake, 1, { mechanism: 'SCRAM-SHA-256' }))).toBe(false);
    expect(lastResponse(b.socket, ApiKeys.SaslHandshake, 1)).toEqual({
      errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM,
      mechanisms: ['PLAIN'],
    });
    expect(b.socket.ended).toBe(true);
    const c = session();
    expect(c.s.admit(request(ApiKeys.SaslAuthenticate, 1, { authBytes: saslPlainAuthBytes('alice', 'secret') }))).toBe(
      false,
    );
    expect(c.socket.destroyed).toBe(true);
  });

  it('takes a raw PLAIN token after a SaslHandshake v0', () => {
    const { socket, s } = session();
    s.admit(request(ApiKeys.SaslHandshake, 0, { mechanism: 'PLAIN' }));
    const token = saslPlainAuthBytes('alice', 'secret');
    const frame = Buffer.alloc(4 + token.length);
    frame.writeInt32BE(token.length, 0);
    token.copy(frame, 4);
    expect(s.admit(frame)).toBe(false);
    expect(socket.written[socket.written.length - 1]).toEqual(Buffer.alloc(4));
    expect(s.admit(request(ApiKeys.Metadata, 8, { topics: null }))).toBe(true);
  });

  it('without users admits everything and answers SASL requests with ILLEGAL_SASL_STATE', () => {
    const { socket, s } = session(new Map());
    expect(s.admit(request(ApiKeys.Metadata, 8, { topics: null }))).toBe(true);
    expect(s.admit(request(ApiKeys.SaslHandshake, 1, { mechanism: 'PLAIN' }))).toBe(false);
    expect(lastResponse(socket, ApiKeys.SaslHandshake, 1)).toEqual({
      errorCode: ErrorCode.ILLEGAL_SASL_STATE,
      mechanisms: [],
    });
  });
});

describe('KafkaConnection with SASL/PLAIN against the development broker', () => {
  let dir: string;
  let broker: KafkaBroker;
  let plain: KafkaBroker;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'weir-sasl-unit-'));
    const base = { ...DEFAULT_BROKER_OPTIONS, port: 0, log: silentLogger() };
    broker = await startKafkaBroker({
      ...base,
      dir: join(dir, 'sasl'),
      saslUsers: new Map([['alice', 'alice-secret']]),
    });
    plain = await startKafkaBroker({ ...base, dir: join(dir, 'plain') });
  });

  afterAll(async () => {
    await broker?.close();
    await plain?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('logs in with the right password and then sends any request', async () => {
    const c = await KafkaConnection.connect('127.0.0.1', broker.port, {
      sasl: { mechanism: 'PLAIN', username: 'alice', password: 'alice-secret' },
    });
    const md = await c.request(ApiKeys.Metadata, 8, { topics: null, allowAutoTopicCreation: false });
    expect(md.brokers).toHaveLength(1);
    await c.close();
  });

  it('rejects connect() with SASL_AUTHENTICATION_FAILED naming user and broker, never the password', async () => {
    const err = await KafkaConnection.connect('127.0.0.1', broker.port, {
      sasl: { mechanism: 'PLAIN', username: 'alice', password: 'wrong-pw' },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KafkaProtocolError);
    expect((err as KafkaProtocolError).code).toBe(ErrorCode.SASL_AUTHENTICATION_FAILED);
    expect((err as Error).message).toBe(
      `SASL_AUTHENTICATION_FAILED: SASL/PLAIN authentication failed for user 'alice' at 127.0.0.1:${broker.port}: ${INVALID_CREDENTIALS}`,
    );
    expect((err as Error).message).not.toContain('wrong-pw');
  });

  it('a connection without credentials is closed at its first request', async () => {
    const c = await KafkaConnection.connect('127.0.0.1', broker.port);
    await expect(c.request(ApiKeys.Metadata, 8, { topics: null })).rejects.toThrow(/NETWORK_EXCEPTION/);
  });

  it('credentials for a broker without SASL are refused clearly', async () => {
    const err = await KafkaConnection.connect('127.0.0.1', plain.port, {
      sasl: { mechanism: 'PLAIN', username: 'alice', password: 'x' },
    }).catch((e: unknown) => e);
    expect((err as KafkaProtocolError).code).toBe(ErrorCode.ILLEGAL_SASL_STATE);
    expect((err as Error).message).toMatch(/does not expect a SASL login/);
  });

  it('KafkaClient reports a refused login as such, not as an unreachable server', async () => {
    const client = new KafkaClient({
      bootstrapServers: [`127.0.0.1:${broker.port}`],
      clientId: 't',
      requestTimeoutMs: 5000,
      sasl: { mechanism: 'PLAIN', username: 'alice', password: 'bad' },
    });
    await expect(client.metadata()).rejects.toThrow(
      `SASL/PLAIN authentication failed for user 'alice' at 127.0.0.1:${broker.port}`,
    );
    client.close();
    const ok = new KafkaClient({
      bootstrapServers: [`127.0.0.1:${broker.port}`],
      clientId: 't',
      requestTimeoutMs: 5000,
      sasl: { mechanism: 'PLAIN', username: 'alice', password: 'alice-secret' },
    });
    expect((await ok.metadata()).brokers.size).toBe(1);
    ok.close();
  });
});
