/** Programmatic API of the load generator (tests and bench/ use this; the CLI is main.ts). */
export { runLoad, assertAccounting, type RunDeps } from "./run.ts";
export { resolveOptions, Preset, type LoadInput, type LoadOptions, type Phase, type ImageSource, type TextSource } from "./options.ts";
export { LoadgenError, LoadgenErrorCode, InvalidVerdictCode } from "./errors.ts";
export { findKnee, judgeStep, type Knee, type StepPoint } from "./step.ts";
export { writeReport, reportFiles, type ReportFiles } from "./write.ts";
export { renderHtml } from "./report-html.ts";
export { formatSummary } from "./summary.ts";
export { HISTOGRAM_RESOLUTION, type LatencySummary } from "./histogram.ts";
export type { Report, PhaseReport, TimelinePoint, Accounting } from "./report.ts";
export type { Outcome } from "./validate.ts";
