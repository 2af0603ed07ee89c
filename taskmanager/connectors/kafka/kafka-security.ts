// The security settings of the Kafka connectors, from Kafka's client properties as Flink users
// write them:
//
//   security.protocol  PLAINTEXT (default) | SASL_PLAINTEXT          (SSL, SASL_SSL: not yet)
//   sasl.mechanism     PLAIN                                        (Kafka's default GSSAPI, SCRAM, OAUTHBEARER: not supported)
//   sasl.jaas.config   org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="p";
//
// Errors name the property at fault, never the password.
import type { SaslPlainCredentials } from '../../../common/kafka/protocol/connection.js';

export interface KafkaSecurity {
  /** Credentials for a SASL/PLAIN login on every connection; undefined for PLAINTEXT. */
  sasl?: SaslPlainCredentials;
}

const PROTOCOLS = ['PLAINTEXT', 'SASL_PLAINTEXT', 'SSL', 'SASL_SSL'];
const FLAGS = ['REQUIRED', 'REQUISITE', 'SUFFICIENT', 'OPTIONAL'];

/** The security settings in `props`; `who` prefixes error messages (e.g. "KafkaSource 'orders'"). */
export function kafkaSecurity(
  props: Readonly<Record<string, string | undefined>>,
  who = 'Kafka connector',
): KafkaSecurity {
  const fail = (msg: string): never => {
    throw new Error(`${who}: ${msg}`);
  };
  const protocol = (props['security.protocol'] ?? 'PLAINTEXT').trim().toUpperCase();
  const mechanismSet = props['sasl.mechanism'];
  const jaas = props['sasl.jaas.config'];
  if (!PROTOCOLS.includes(protocol))
    fail(`security.protocol '${props['security.protocol']}' is not one of ${PROTOCOLS.join(', ')}`);
  if (protocol === 'SSL' || protocol === 'SASL_SSL')
    fail(`security.protocol ${protocol} (TLS) is not supported yet; use PLAINTEXT or SASL_PLAINTEXT`);
  if (protocol === 'PLAINTEXT') {
    // Kafka would ignore them; here they most likely mean a forgotten security.protocol.
    if (jaas !== undefined || mechanismSet !== undefined) {
      fail(
        `${jaas !== undefined ? 'sasl.jaas.config' : 'sasl.mechanism'} is set but security.protocol is PLAINTEXT: set security.protocol=SASL_PLAINTEXT to log in`,
      );
    }
    return {};
  }
  // SASL_PLAINTEXT
  const mechanism = (mechanismSet ?? 'GSSAPI').trim().toUpperCase();
  if (mechanism !== 'PLAIN') {
    fail(
      mechanismSet === undefined
        ? "sasl.mechanism is not set, and Kafka's default GSSAPI (Kerberos) is not supported: set sasl.mechanism=PLAIN"
        : `sasl.mechanism ${mechanismSet.trim()} is not supported; only PLAIN is`,
    );
  }
  if (jaas === undefined || jaas.trim() === '')
    return fail(
      'security.protocol SASL_PLAINTEXT needs sasl.jaas.config (org.apache.kafka.common.security.plain.PlainLoginModule required username="..." password="...";)',
    );
  let parsed: JaasLoginModule;
  try {
    parsed = parseJaasConfig(jaas);
  } catch (e) {
    return fail(`sasl.jaas.config: ${(e as Error).message}`);
  }
  if (!/(^|\.)PlainLoginModule$/.test(parsed.loginModule)) {
    fail(
      `sasl.jaas.config names login module ${parsed.loginModule}, but sasl.mechanism PLAIN needs org.apache.kafka.common.security.plain.PlainLoginModule`,
    );
  }
  const username = parsed.options.get('username');
  const password = parsed.options.get('password');
  if (username === undefined || username === '') fail('sasl.jaas.config has no username="..." option');
  if (password === undefined) fail('sasl.jaas.config has no password="..." option');
  if (username!.includes('\0') || password!.includes('\0'))
    fail('sasl.jaas.config: the username and password of PLAIN cannot contain NUL characters');
  return { sasl: { mechanism: 'PLAIN', username: username!, password: password! } };
}

export interface JaasLoginModule {
  loginModule: string;
  /** required, requisite, sufficient or optional (lower case). */
  flag: string;
  options: Map<string, string>;
}

/**
 * Parses a `sasl.jaas.config` value as Kafka's JaasConfig does (with Java's StreamTokenizer):
 * `<LoginModuleClass> <flag> [name=value ...];`, values unquoted words or in double or single
 * quotes with backslash escapes (\" \\ \n \t, octal), comments // and /* *\/. A Kafka client
 * property holds exactly one login module. Error messages never quote option values.
 */
export function parseJaasConfig(text: string): JaasLoginModule {
  const t = new Tokenizer(text);
  const modules: JaasLoginModule[] = [];
  while (t.peek().kind !== 'eof') {
    const name = t.next();
    if (name.kind !== 'word') throw new Error(`expected a login module class name at position ${name.at}`);
    const flagTok = t.next();
    if (flagTok.kind !== 'word' || !FLAGS.includes(flagTok.value.toUpperCase())) {
      throw new Error(
        `expected a control flag (required, requisite, sufficient or optional) after ${name.value} at position ${flagTok.at}`,
      );
    }
    const options = new Map<string, string>();
    for (;;) {
      const tok = t.next();
      if (tok.kind === 'char' && tok.value === ';') break;
      if (tok.kind === 'eof') throw new Error("the login module does not end with ';'");
      if (tok.kind !== 'word') throw new Error(`expected an option name at position ${tok.at}`);
      const eq = t.next();
      if (eq.kind !== 'char' || eq.value !== '=') throw new Error(`value not specified for key '${tok.value}'`);
      const value = t.next();
      if (value.kind !== 'word' && value.kind !== 'quoted')
        throw new Error(`value not specified for key '${tok.value}'`);
      options.set(tok.value, value.value);
    }
    modules.push({ loginModule: name.value, flag: flagTok.value.toLowerCase(), options });
  }
  if (modules.length !== 1) throw new Error(`holds ${modules.length} login modules; a Kafka client needs exactly 1`);
  return modules[0]!;
}

type Token = { kind: 'word' | 'quoted' | 'char'; value: string; at: number } | { kind: 'eof'; value: ''; at: number };

const WORD = /[A-Za-z0-9_$.\-\u0080-\uffff]/;

class Tokenizer {
  private i = 0;
  private peeked: Token | undefined;

  constructor(private readonly s: string) {}

  peek(): Token {
    this.peeked ??= this.read();
    return this.peeked;
  }

  next(): Token {
    const t = this.peek();
    this.peeked = undefined;
    return t;
  }

  private read(): Token {
    const s = this.s;
    for (;;) {
      while (this.i < s.length && /\s/.test(s[this.i]!)) this.i++;
      if (s.startsWith('//', this.i)) {
        while (this.i < s.length && s[this.i] !== '\n') this.i++;
      } else if (s.startsWith('/*', this.i)) {
        const end = s.indexOf('*/', this.i + 2);
        if (end < 0) throw new Error('a /* comment is not closed');
        this.i = end + 2;
      } else break;
    }
    const at = this.i;
    if (this.i >= s.length) return { kind: 'eof', value: '', at };
    const c = s[this.i]!;
    if (c === '"' || c === "'") return { kind: 'quoted', value: this.quoted(c), at };
    if (WORD.test(c)) {
      let j = this.i;
      while (j < s.length && WORD.test(s[j]!)) j++;
      const value = s.slice(this.i, j);
      this.i = j;
      return { kind: 'word', value, at };
    }
    this.i++;
    return { kind: 'char', value: c, at };
  }

  /** A quoted string, with StreamTokenizer's escapes; as there, a line break also ends it. */
  private quoted(q: string): string {
    const s = this.s;
    const start = this.i;
    this.i++;
    let out = '';
    while (this.i < s.length) {
      const c = s[this.i++]!;
      if (c === q) return out;
      if (c === '\n' || c === '\r') break;
      if (c !== '\\') {
        out += c;
        continue;
      }
      if (this.i >= s.length) break;
      const e = s[this.i++]!;
      if (e >= '0' && e <= '7') {
        let digits = e;
        const max = e <= '3' ? 3 : 2;
        while (digits.length < max && this.i < s.length && s[this.i]! >= '0' && s[this.i]! <= '7')
          digits += s[this.i++];
        out += String.fromCharCode(parseInt(digits, 8));
        continue;
      }
      out += ESCAPES[e] ?? e;
    }
    throw new Error(`the quoted value at position ${start} is not closed`);
  }
}

const ESCAPES: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };
