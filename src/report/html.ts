/**
 * The trust report as one self-contained HTML page: no script, no external resource (a Content Security
 * Policy forbids any), inline CSS with light and dark schemes (prefers-color-scheme) and a print style.
 * Findings first, then per repository an expiry timeline with the warning window marked, the delegation
 * tree drawn as a tree, and the tables. Pure: a function of the report document.
 */
import { humanDuration, timeLeftText, type CertificateReport, type DelegationNode, type Finding, type RepositoryReport, type RoleReport, type TrustReport } from './model.js';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}
const e = escapeHtml;

const DAY = 86400;
/** Share of the track left of "now" where expired items sit. */
const EXPIRED_ZONE = 8;

/** Log scale on time left: a 14-day timestamp and a 10-year root both stay readable. */
function scale(maxSeconds: number): (seconds: number) => number {
  const maxDays = Math.max(maxSeconds / DAY, 30);
  const span = Math.log1p(maxDays);
  return (seconds) => {
    if (seconds <= 0) return EXPIRED_ZONE / 2;
    const x = Math.log1p(seconds / DAY) / span;
    return EXPIRED_ZONE + (100 - EXPIRED_ZONE) * Math.min(1, x);
  };
}

const TICKS: [number, string][] = [
  [DAY, '1d'],
  [7 * DAY, '1w'],
  [30 * DAY, '1mo'],
  [91 * DAY, '3mo'],
  [365 * DAY, '1y'],
  [3 * 365 * DAY, '3y'],
  [10 * 365 * DAY, '10y'],
  [30 * 365 * DAY, '30y'],
];

interface TimelineItem {
  readonly label: string;
  readonly kind: string;
  readonly when: string;
  readonly secondsLeft: number;
  readonly cls: 'expired' | 'soon' | 'ok' | 'renewed' | 'skipped';
  readonly title: string;
}

function itemClass(secondsLeft: number, windowSeconds: number, renewed = false): TimelineItem['cls'] {
  if (renewed) return 'renewed';
  if (secondsLeft < 0) return 'expired';
  return secondsLeft < windowSeconds ? 'soon' : 'ok';
}

function timelineItems(repo: RepositoryReport, windowSeconds: number): TimelineItem[] {
  const items: TimelineItem[] = [];
  for (const r of repo.roles) {
    if (r.secondsLeft === undefined || r.expires === undefined) continue;
    const label = `${r.role}${r.version !== undefined ? ` v${r.version}` : ''}${r.state === 'skipped' ? ' (skipped)' : ''}`;
    items.push({
      label,
      kind: 'role',
      when: r.expires,
      secondsLeft: r.secondsLeft,
      cls: r.state === 'skipped' ? 'skipped' : itemClass(r.secondsLeft, windowSeconds, r.renewedByServer === true),
      title: `${r.role} expires ${r.expires} (${timeLeftText(r.secondsLeft)})${r.renewedByServer ? ' — renewed by the server' : ''}`,
    });
  }
  for (const c of repo.certificates) {
    if (c.role === 'root' && !c.active) continue;
    items.push({
      label: `${c.role === 'root' ? 'root cert' : `${c.role} cert`} ${c.canonicalId.slice(0, 7)}`,
      kind: 'certificate',
      when: c.notAfter,
      secondsLeft: c.secondsLeft,
      cls: itemClass(c.secondsLeft, windowSeconds),
      title: `certificate CN ${c.subject} notAfter ${c.notAfter} (${timeLeftText(c.secondsLeft)})`,
    });
  }
  return items;
}

function timeline(repo: RepositoryReport, report: TrustReport): string {
  const windowSeconds = report.warnWithinSeconds;
  const items = timelineItems(repo, windowSeconds);
  if (items.length === 0) return '<p class="muted">Nothing to show.</p>';
  const max = Math.max(windowSeconds, ...items.map((i) => i.secondsLeft));
  const x = scale(max);
  const now = EXPIRED_ZONE;
  const windowEnd = x(windowSeconds);
  const ticks = TICKS.filter(([s]) => s <= Math.max(max, 30 * DAY) * 1.05)
    .map(([s, label]) => `<span class="tl-tick" style="left:${x(s).toFixed(2)}%">${label}</span>`)
    .join('');
  const rows = items
    .map((i) => {
      const end = x(i.secondsLeft);
      const bar =
        i.secondsLeft <= 0
          ? `<span class="tl-mark tl-${i.cls}" style="left:${end.toFixed(2)}%"></span>`
          : `<span class="tl-bar tl-${i.cls}" style="left:${now}%;width:${(end - now).toFixed(2)}%"></span>`;
      return (
        `<div class="tl-row" data-kind="${i.kind}" data-class="${i.cls}" title="${e(i.title)}">` +
        `<span class="tl-label">${e(i.label)}</span>` +
        `<span class="tl-track">${bar}</span>` +
        `<span class="tl-when">${e(i.when.slice(0, 10))} · ${e(i.secondsLeft < 0 ? `${humanDuration(i.secondsLeft)} ago` : humanDuration(i.secondsLeft))}</span>` +
        `</div>`
      );
    })
    .join('');
  return (
    `<div class="timeline" data-rows="${items.length}" style="--now:${now}%;--window-end:${windowEnd.toFixed(2)}%">` +
    `<div class="tl-row tl-axis" aria-hidden="true"><span class="tl-label"></span><span class="tl-track">` +
    `<span class="tl-expired-zone">expired</span><span class="tl-window" title="warning window: ${e(humanDuration(windowSeconds))} after ${e(report.at)}">window</span>${ticks}</span><span class="tl-when"></span></div>` +
    rows +
    `</div>`
  );
}

function stateBadge(state: string): string {
  return `<span class="state state-${e(state)}">${e(state)}</span>`;
}

function pathsText(paths: readonly string[]): string {
  if (paths.length === 0) return 'no paths';
  return paths.map((p) => (p === '' ? '"" (all paths)' : p)).join(', ');
}

function treeNode(node: DelegationNode, windowSeconds: number): string {
  const expiry =
    node.secondsLeft === undefined ? '' : `<span class="exp exp-${itemClass(node.secondsLeft, windowSeconds)}">${e(timeLeftText(node.secondsLeft))}</span>`;
  const keys = node.keyIds.map((k) => `<code title="${e(k)}">${e(k.slice(0, 12))}</code>`).join(' ');
  const children = node.children.length ? `<ul>${node.children.map((c) => treeNode(c, windowSeconds)).join('')}</ul>` : '';
  return (
    `<li class="node" data-role="${e(node.role)}" data-state="${e(node.state)}"><div class="node-box">` +
    `<b>${e(node.role)}</b> ${stateBadge(node.state)}<br>` +
    `<span class="muted">threshold ${node.threshold} of ${node.keyIds.length} · ${e(pathsText(node.paths))}` +
    `${node.targetCount !== undefined ? ` · ${node.targetCount} target${node.targetCount === 1 ? '' : 's'}` : ''}</span><br>` +
    `${expiry} ${keys}</div>${children}</li>`
  );
}

function rolesTable(roles: readonly RoleReport[]): string {
  const rows = roles
    .map(
      (r) =>
        `<tr data-role="${e(r.role)}"><td>${e(r.role)}</td><td>${stateBadge(r.state)}</td><td>${r.version ?? ''}</td>` +
        `<td>${e(r.expires ?? '')}</td><td>${r.secondsLeft === undefined ? '' : e(timeLeftText(r.secondsLeft))}${r.renewedByServer ? ' <span class="muted">(renewed by server)</span>' : ''}</td>` +
        `<td>${r.signedBy ? `${r.signedBy.length} of ` : ''}${r.threshold} needed</td>` +
        `<td>${r.keys.map((k) => `<code title="${e(k.type)} · TUF ${e(k.id)}">${e(k.canonicalId.slice(0, 12))}</code>`).join(' ')}</td>` +
        `<td>${r.paths ? e(pathsText(r.paths)) : ''}</td></tr>`,
    )
    .join('');
  return `<table class="roles"><thead><tr><th>Role</th><th>State</th><th>Version</th><th>Expires</th><th>Time left</th><th>Signatures</th><th>Keys</th><th>Paths</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function certTable(certs: readonly CertificateReport[]): string {
  if (certs.length === 0) return '<p class="muted">No certificates.</p>';
  const rows = certs
    .map(
      (c) =>
        `<tr><td>${e(c.role)}${c.active ? '' : ' <span class="muted">(retired)</span>'}</td><td><code title="${e(c.keyId)}">${e(c.keyId.slice(0, 12))}</code></td><td>${e(c.subject)}</td>` +
        `<td>${e(c.notBefore)}</td><td>${e(c.notAfter)}</td><td>${e(timeLeftText(c.secondsLeft))}</td></tr>`,
    )
    .join('');
  return `<table class="certs"><thead><tr><th>Role</th><th>Key ID</th><th>Subject CN</th><th>Not before</th><th>Not after</th><th>Time left</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function tagsTable(repo: RepositoryReport): string {
  if (repo.signedTags.length === 0) return '<p class="muted">No signed tags.</p>';
  const rows = repo.signedTags
    .map((t) => `<tr><td>${e(t.tag)}</td><td><code>${e(t.digest)}</code></td><td>${e(t.signers.join(', '))}</td><td>${e(t.roles.join(', '))}</td></tr>`)
    .join('');
  return `<table class="tags"><thead><tr><th>Signed tag</th><th>Digest</th><th>Signers</th><th>Roles</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function findingItem(f: Finding): string {
  const where = [f.role, f.tag ? `tag ${f.tag}` : undefined].filter(Boolean).join(' · ');
  return (
    `<li class="finding sev-${f.severity}" data-severity="${f.severity}" data-kind="${f.kind}">` +
    `<span class="sev">${f.severity}</span> <b>${e(f.gun)}</b>${where ? ` <span class="muted">${e(where)}</span>` : ''}<br>${e(f.message)}</li>`
  );
}

function repositorySection(repo: RepositoryReport, report: TrustReport): string {
  const head = `<h2>${e(repo.gun)} <span class="status status-${repo.status}">${repo.status}</span></h2>`;
  if (!repo.verified) {
    return `<section class="repo" data-gun="${e(repo.gun)}" data-status="${repo.status}">${head}<p class="error">Could not verify: ${e(repo.error?.code ?? '')} — ${e(repo.error?.message ?? '')}</p></section>`;
  }
  const tree = repo.delegations ? `<ul class="tree">${treeNode(repo.delegations, report.warnWithinSeconds)}</ul>` : '<p class="muted">No targets.</p>';
  return (
    `<section class="repo" data-gun="${e(repo.gun)}" data-status="${repo.status}">${head}` +
    `<p class="muted">verified ${e(repo.verifiedAt ?? '')}${repo.server ? ` from ${e(repo.server)}` : ''}${repo.refusedAt ? ` · <span class="sev-critical">refused as of ${e(report.at)}: ${e(repo.refusedAt.message)}</span>` : ''}</p>` +
    `<h3>Expiry timeline</h3>${timeline(repo, report)}` +
    `<h3>Delegation tree</h3>${tree}` +
    `<h3>Roles</h3>${rolesTable(repo.roles)}` +
    `<h3>Certificates</h3>${certTable(repo.certificates)}` +
    `<h3>Signed tags</h3>${tagsTable(repo)}` +
    (repo.warnings.length ? `<h3>Warnings</h3><ul>${repo.warnings.map((w) => `<li>${e(w)}</li>`).join('')}</ul>` : '') +
    `</section>`
  );
}

const CSS = `
:root{color-scheme:light dark;--bg:#fff;--fg:#1b1f24;--muted:#5a6270;--line:#d0d7de;--panel:#f6f8fa;
--crit:#c62828;--warn:#b26a00;--ok:#2e7d32;--info:#1565c0;--renew:#8a94a3;--window:rgba(255,179,0,.18)}
@media (prefers-color-scheme:dark){:root{--bg:#0f1217;--fg:#e6e9ee;--muted:#9aa4b2;--line:#30363d;--panel:#161b22;
--crit:#ff6b6b;--warn:#f0b429;--ok:#56d364;--info:#79b8ff;--renew:#6e7681;--window:rgba(240,180,41,.16)}}
*{box-sizing:border-box}
body{margin:0 auto;max-width:1200px;padding:24px;background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}h3{font-size:14px;margin:18px 0 6px}
code{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.muted{color:var(--muted)}
.status,.state,.sev{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;font-weight:600;border:1px solid currentColor}
.status-clear{color:var(--ok)}.status-findings{color:var(--warn)}.status-unverified{color:var(--crit)}
.state-trusted{color:var(--ok)}.state-skipped{color:var(--crit)}.state-unpublished,.state-unreachable{color:var(--muted)}
.findings{list-style:none;padding:0;margin:0}
.finding{border-left:4px solid var(--line);background:var(--panel);margin:6px 0;padding:6px 10px}
.finding.sev-critical{border-color:var(--crit)}.finding.sev-warning{border-color:var(--warn)}.finding.sev-notice{border-color:var(--info)}
.sev-critical .sev,.sev-critical{color:var(--crit)}.sev-warning .sev{color:var(--warn)}.sev-notice .sev{color:var(--info)}
.finding b,.finding{color:var(--fg)}
.error{color:var(--crit);font-weight:600}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{border-bottom:1px solid var(--line);padding:4px 6px;text-align:left;vertical-align:top}
th{background:var(--panel)}
.timeline{border:1px solid var(--line);border-radius:6px;padding:6px 8px;background:var(--panel)}
.tl-row{display:grid;grid-template-columns:190px 1fr 190px;align-items:center;gap:8px;min-height:22px}
.tl-label{white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.tl-when{font-size:12px;color:var(--muted);white-space:nowrap}
.tl-track{position:relative;height:14px;background:linear-gradient(to right,transparent var(--now),var(--window) var(--now),var(--window) var(--window-end),transparent var(--window-end));border-left:1px solid var(--line)}
.tl-track::before{content:"";position:absolute;left:var(--now);top:-4px;bottom:-4px;border-left:2px solid var(--fg)}
.tl-axis{min-height:26px}.tl-axis .tl-track{height:26px;background:none}
.tl-axis .tl-track::before{display:none}
.tl-tick{position:absolute;top:12px;transform:translateX(-50%);font-size:11px;color:var(--muted)}
.tl-tick::before{content:"";position:absolute;left:50%;top:-6px;height:5px;border-left:1px solid var(--muted)}
.tl-window{position:absolute;top:0;left:var(--now);width:calc(var(--window-end) - var(--now));height:12px;background:var(--window);border:1px dashed var(--warn);font-size:10px;line-height:10px;text-align:center;color:var(--warn);overflow:hidden}
.tl-expired-zone{position:absolute;left:0;top:0;width:var(--now);height:12px;font-size:10px;line-height:12px;color:var(--crit);overflow:hidden;text-align:center}
.tl-bar{position:absolute;top:3px;height:8px;border-radius:4px}
.tl-mark{position:absolute;top:1px;width:12px;height:12px;margin-left:-6px;transform:rotate(45deg)}
.tl-skipped{background:repeating-linear-gradient(45deg,var(--crit) 0 6px,transparent 6px 10px)}
.tl-ok{background:var(--ok)}.tl-soon{background:var(--warn)}.tl-expired{background:var(--crit)}.tl-renewed{background:var(--renew)}
.exp-ok{color:var(--ok)}.exp-soon{color:var(--warn)}.exp-expired{color:var(--crit)}
ul.tree,ul.tree ul{list-style:none;margin:0;padding:0 0 0 26px;position:relative}
ul.tree{padding-left:0}
ul.tree ul::before{content:"";position:absolute;left:12px;top:0;bottom:14px;border-left:2px solid var(--line)}
ul.tree li{position:relative;margin:8px 0}
ul.tree ul>li::before{content:"";position:absolute;left:-14px;top:16px;width:14px;border-top:2px solid var(--line)}
.node-box{display:inline-block;border:1px solid var(--line);border-radius:6px;padding:4px 10px;background:var(--panel)}
.node[data-state="skipped"]>.node-box{border-color:var(--crit)}
.node[data-state="unpublished"]>.node-box,.node[data-state="unreachable"]>.node-box{border-style:dashed}
header p{margin:2px 0}
@media print{:root{--bg:#fff;--fg:#000;--muted:#444;--line:#999;--panel:#fff;--window:rgba(255,179,0,.25)}
body{max-width:none;padding:0;font-size:11px}*{-webkit-print-color-adjust:exact;print-color-adjust:exact}
section.repo{break-before:page}section.repo:first-of-type{break-before:auto}
.timeline,.node-box,.finding,tr{break-inside:avoid}}
`;

/** The report page (UTF-8 text). */
export function renderReportHtml(report: TrustReport): string {
  const c = report.counts;
  const findings = report.findings.length
    ? `<ol class="findings">${report.findings.map(findingItem).join('')}</ol>`
    : '<p class="status status-clear">All clear: nothing expires within the window.</p>';
  return (
    '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">' +
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">` +
    '<meta name="viewport" content="width=device-width,initial-scale=1">' +
    `<title>Trust report · ${e(report.at.slice(0, 10))}</title><style>${CSS}</style></head><body>` +
    `<header><h1>Trust report <span class="status status-${report.status}">${report.status}</span></h1>` +
    `<p class="muted">Judged as of <b>${e(report.at)}</b> · warning window ${e(humanDuration(report.warnWithinSeconds))} (until ${e(report.windowEnd)}) · generated ${e(report.generatedAt)} by notary-ts</p>` +
    `<p>${report.repositories.length} repositor${report.repositories.length === 1 ? 'y' : 'ies'} · ${c.critical} critical · ${c.warning} warning · ${c.notice} notice</p></header>` +
    `<section id="findings"><h2>Findings</h2>${findings}</section>` +
    report.repositories.map((r) => repositorySection(r, report)).join('') +
    '</body></html>\n'
  );
}
