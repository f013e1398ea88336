/**
 * The deploy gate on the command line: `trust verify` for deploy scripts and `admission serve`, the
 * Kubernetes admission webhook. Thin: the policy, the decision and the server live in src/policy and
 * src/admission.
 */
import { createWriteStream } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseDuration, defaultPolicy } from '../../policy/policy.js';
import { Gate, loadPolicyFile, type Decision } from '../../policy/gate.js';
import { CliError, ExitCode, type Command } from '../program.js';

function parseAt(text: string): Date {
  const d = new Date(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(d.getTime())) {
    throw new CliError(`invalid --at ${JSON.stringify(text)}: expected an RFC 3339 time such as 2026-12-01T00:00:00Z`);
  }
  return d;
}

function decisionJson(d: Decision) {
  return {
    image: d.image,
    allowed: d.allowed,
    rule: d.rule,
    action: d.action,
    ...(d.name !== undefined ? { name: d.name } : {}),
    ...(d.verified
      ? {
          digest: d.verified.digest,
          size: d.verified.length,
          ...(d.verified.tag !== undefined ? { tag: d.verified.tag } : {}),
          roles: d.verified.roles,
          signers: d.verified.signers,
          pinned: d.pinned,
        }
      : {}),
    ...(d.error ? { error: d.error } : {}),
  };
}

export const trustVerifyCommand: Command = {
  path: ['trust', 'verify'],
  use: 'trust verify [--policy FILE] [--at TIME] IMAGE...',
  short: 'Verify images against a signing policy and print the digest each may run as',
  flags: [
    { name: 'policy', type: 'string', description: 'Signing policy (YAML or JSON); default: Docker\'s rule (targets/releases, else targets), root trusted on first use' },
    { name: 'at', type: 'string', description: 'Judge expiry and freshness as of this RFC 3339 time (audits)' },
  ],
  async run(ctx) {
    if (ctx.args.length === 0) {
      ctx.usage();
      throw new CliError('"notary-ts trust verify" requires at least 1 argument');
    }
    const policyFile = ctx.flags['policy'] as string | undefined;
    const policy = policyFile ? await loadPolicyFile(resolve(ctx.io.cwd, policyFile)) : defaultPolicy();
    const at = ctx.flags['at'] ? parseAt(ctx.flags['at'] as string) : undefined;
    const gate = new Gate({
      policy,
      env: ctx.io.env,
      baseDir: policyFile ? dirname(resolve(ctx.io.cwd, policyFile)) : ctx.io.cwd,
      ...(at ? { clock: () => at } : {}),
      log: { warn: (m) => ctx.log.warn(m), debug: (m) => ctx.log.debug(m) },
    });
    let decisions: Decision[];
    try {
      decisions = await Promise.all(ctx.args.map((image) => gate.decide(image)));
    } finally {
      await gate.close();
    }
    const allowed = decisions.every((d) => d.allowed);
    if (ctx.json) {
      ctx.result({ allowed, images: decisions.map(decisionJson) });
    } else {
      for (const d of decisions) {
        if (d.allowed && d.pinned) ctx.print(`${d.image} -> ${d.pinned}\n`);
        else if (d.allowed) ctx.print(`${d.image} -> ${d.name ?? d.image} (not verified: rule ${d.rule} allows it)\n`);
        if (d.error) {
          const prefix = d.allowed ? 'warning: ' : '';
          ctx.io.stderr(`${prefix}${d.image}: rule ${d.rule}: ${d.error.code}: ${d.error.message}\n`);
        }
      }
    }
    if (!allowed) throw new ExitCode(1);
  },
};

export const admissionServeCommand: Command = {
  path: ['admission', 'serve'],
  use: 'admission serve --policy FILE --tls-cert FILE --tls-key FILE [--port N]',
  short: 'Serve a Kubernetes admission webhook that admits only images the policy verifies',
  flags: [
    { name: 'policy', type: 'string', description: 'Signing policy (YAML or JSON), reloaded when it changes' },
    { name: 'tls-cert', type: 'string', description: 'Server certificate (PEM)' },
    { name: 'tls-key', type: 'string', description: 'Server private key (PEM)' },
    { name: 'port', type: 'int', description: 'Port to listen on', default: 8443 },
    { name: 'host', type: 'string', description: 'Address to listen on', default: '0.0.0.0' },
    { name: 'mode', type: 'string', description: 'What POST / does: mutating (pin images to digests) or validating; /mutate and /validate are always served', default: 'mutating' },
    { name: 'max-in-flight', type: 'int', description: 'Reviews decided at once', default: 64 },
    { name: 'deadline', type: 'string', description: 'Longest time one review may take before it is denied (fail closed)', default: '9s' },
    { name: 'audit-log', type: 'string', description: 'Append one JSON line per image decision to this file (- for stdout)' },
    { name: 'reload-interval', type: 'string', description: 'How often to check the policy file for changes', default: '2s' },
  ],
  async run(ctx) {
    const need = (name: string): string => {
      const v = ctx.flags[name];
      if (typeof v !== 'string' || v === '') {
        ctx.usage();
        throw new CliError(`--${name} is required`);
      }
      return resolve(ctx.io.cwd, v);
    };
    const policyFile = need('policy');
    const tlsCert = need('tls-cert');
    const tlsKey = need('tls-key');
    const mode = ctx.flags['mode'] as string;
    if (mode !== 'mutating' && mode !== 'validating') throw new CliError(`--mode must be mutating or validating, not ${JSON.stringify(mode)}`);
    const deadlineMs = parseDuration(ctx.flags['deadline'] as string);
    if (deadlineMs === undefined || deadlineMs <= 0) throw new CliError(`invalid --deadline ${JSON.stringify(ctx.flags['deadline'])}: expected a duration such as 9s`);
    const reloadMs = parseDuration(ctx.flags['reload-interval'] as string);
    if (reloadMs === undefined || reloadMs <= 0) throw new CliError(`invalid --reload-interval ${JSON.stringify(ctx.flags['reload-interval'])}: expected a duration such as 2s`);
    const port = ctx.flags['port'] as number;
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError(`invalid --port ${port}`);
    const auditPath = ctx.flags['audit-log'] as string | undefined;
    const auditStream = auditPath && auditPath !== '-' ? createWriteStream(resolve(ctx.io.cwd, auditPath), { flags: 'a', mode: 0o600 }) : undefined;
    const audit = auditPath === '-' ? (line: string) => ctx.print(line + '\n') : auditStream ? (line: string) => void auditStream.write(line + '\n') : undefined;
    const { startAdmissionServer } = await import('../../admission/server.js');
    const server = await startAdmissionServer({
      policyFile,
      tlsCert,
      tlsKey,
      port,
      host: ctx.flags['host'] as string,
      mode,
      maxInFlight: Math.max(1, ctx.flags['max-in-flight'] as number),
      deadlineMs,
      reloadIntervalMs: reloadMs,
      env: ctx.io.env,
      log: (line) => ctx.log.warn(line),
      ...(audit ? { audit } : {}),
    }).catch((err: unknown) => {
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'EADDRINUSE' || e.code === 'EACCES' || e.code === 'ENOENT') throw new CliError(`cannot serve: ${e.message}`);
      throw err;
    });
    ctx.io.stderr(`notary-ts admission webhook serving on ${server.url} (POST /mutate, /validate; GET /healthz, /readyz, /metrics)\n`);
    await new Promise<void>((done) => {
      const stop = () => {
        process.off('SIGTERM', stop);
        process.off('SIGINT', stop);
        ctx.io.stderr('shutting down: finishing reviews in flight\n');
        void server.close().then(done, done);
      };
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    });
    if (auditStream) await new Promise<void>((r) => auditStream.end(r));
    // Every review is answered and the audit is flushed; an update still waiting on a stalled trust server
    // must not hold the process until its own timeout.
    setTimeout(() => process.exit(0), 500).unref();
  },
};

export const gateCommands: readonly Command[] = [trustVerifyCommand, admissionServeCommand];
