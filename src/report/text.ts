/**
 * The report for a terminal: findings first, then per repository the roles, certificates, the delegation
 * tree and the signed tags. Pure; tables come from the caller (the CLI's tabwriter) to stay Notary-like.
 */
import { humanDuration, timeLeftText, type DelegationNode, type TrustReport } from './model.js';

export type TableFormatter = (headers: readonly string[], rows: readonly (readonly string[])[]) => string;

function treeLines(node: DelegationNode, prefix: string, last: boolean, top: boolean, out: string[]): void {
  const paths = node.paths.length === 0 ? 'no paths' : node.paths.map((p) => (p === '' ? '"" <all paths>' : p)).join(', ');
  const expiry = node.secondsLeft === undefined ? '' : `, ${timeLeftText(node.secondsLeft)}`;
  const line = `${node.role} [${node.state}] threshold ${node.threshold} of ${node.keyIds.length}, ${paths}${node.targetCount !== undefined ? `, ${node.targetCount} targets` : ''}${expiry}`;
  out.push(top ? line : `${prefix}${last ? '└── ' : '├── '}${line}`);
  const childPrefix = top ? '' : prefix + (last ? '    ' : '│   ');
  node.children.forEach((c, i) => treeLines(c, childPrefix, i === node.children.length - 1, false, out));
}

export function renderReportText(report: TrustReport, table: TableFormatter): string {
  const out: string[] = [];
  out.push(`Trust report as of ${report.at} (window ${humanDuration(report.warnWithinSeconds)}, until ${report.windowEnd}): ${report.status}`);
  out.push(`${report.counts.critical} critical, ${report.counts.warning} warning, ${report.counts.notice} notice`);
  out.push('');
  if (report.findings.length) {
    out.push('FINDINGS');
    for (const f of report.findings) out.push(`  ${f.severity.toUpperCase().padEnd(8)} ${f.gun}${f.role ? ` ${f.role}` : ''}: ${f.message}`);
    out.push('');
  }
  for (const repo of report.repositories) {
    out.push(`== ${repo.gun}: ${repo.status}`);
    if (!repo.verified) {
      out.push(`could not verify: ${repo.error?.message ?? ''}`, '');
      continue;
    }
    out.push('');
    out.push(
      table(
        ['ROLE', 'STATE', 'VERSION', 'EXPIRES', 'TIME LEFT', 'SIGNED/THRESHOLD', 'KEY IDS'],
        repo.roles.map((r) => [
          r.role,
          r.state,
          r.version === undefined ? '' : String(r.version),
          r.expires ?? '',
          r.secondsLeft === undefined ? '' : timeLeftText(r.secondsLeft) + (r.renewedByServer ? ' (renewed by server)' : ''),
          `${r.signedBy ? r.signedBy.length : '-'}/${r.threshold}`,
          r.keys.map((k) => k.canonicalId.slice(0, 12)).join(','),
        ]),
      ),
    );
    if (repo.certificates.length) {
      out.push(
        table(
          ['CERTIFICATE', 'ROLE', 'SUBJECT', 'NOT AFTER', 'TIME LEFT'],
          repo.certificates.map((c) => [c.keyId.slice(0, 12) + (c.active ? '' : ' (retired)'), c.role, c.subject, c.notAfter, timeLeftText(c.secondsLeft)]),
        ),
      );
    }
    if (repo.delegations) {
      const lines: string[] = [];
      treeLines(repo.delegations, '', true, true, lines);
      out.push('DELEGATIONS', ...lines, '');
    }
    if (repo.signedTags.length) out.push(table(['SIGNED TAG', 'DIGEST', 'SIGNERS'], repo.signedTags.map((t) => [t.tag, t.digest, t.signers.join(', ')])));
    for (const w of repo.warnings) out.push(`warning: ${w}`);
    out.push('');
  }
  return out.join('\n') + '\n';
}
