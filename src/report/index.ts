// The trust report (issue 16): model (pure), renderers (pure), and the IO that runs the update workflow.
export * from './model.js';
export { renderReportHtml, escapeHtml } from './html.js';
export { renderReportText, type TableFormatter } from './text.js';
export { collectReport, trustReport, DEFAULT_WARN_WITHIN_MS, type RepositoryOpener, type CollectOptions, type TrustReportOptions } from './run.js';
