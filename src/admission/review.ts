/**
 * Kubernetes `admission.k8s.io/v1` AdmissionReview documents: which images a workload runs (with the JSON
 * Pointer of each), and the response — allowed or denied with a message a person can act on, warnings, and
 * in mutating mode a JSONPatch pinning every image to its verified digest. Pure, for table tests.
 */
import { NotaryError } from '../core/errors.js';

export class AdmissionRequestError extends NotaryError {}

export interface ImageSite {
  /** JSON Pointer of the `image` field, e.g. `/spec/template/spec/containers/0/image`. */
  readonly pointer: string;
  readonly image: string;
  /** `containers/app`, `initContainers/setup`, … for messages. */
  readonly container: string;
}

export interface ParsedReview {
  readonly apiVersion: string;
  readonly uid: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name?: string;
  readonly operation?: string;
  readonly images: readonly ImageSite[];
}

/** Where the pod spec sits in each workload kind this webhook understands. */
const POD_SPEC_PATHS: Record<string, readonly string[]> = {
  Pod: ['spec'],
  Deployment: ['spec', 'template', 'spec'],
  ReplicaSet: ['spec', 'template', 'spec'],
  ReplicationController: ['spec', 'template', 'spec'],
  StatefulSet: ['spec', 'template', 'spec'],
  DaemonSet: ['spec', 'template', 'spec'],
  Job: ['spec', 'template', 'spec'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
};

const CONTAINER_LISTS = ['initContainers', 'containers', 'ephemeralContainers'] as const;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

function bad(message: string, where?: string): never {
  throw new AdmissionRequestError('INVALID_ARGUMENT', message, where === undefined ? {} : { where });
}

/** Parses an AdmissionReview request body; throws AdmissionRequestError (a 400) when it is not one. */
export function parseAdmissionReview(body: unknown): ParsedReview {
  if (!isObject(body)) bad('the body is not a JSON object');
  if (body['kind'] !== 'AdmissionReview') bad(`kind must be AdmissionReview, not ${JSON.stringify(body['kind'])}`, 'kind');
  const apiVersion = body['apiVersion'];
  if (apiVersion !== 'admission.k8s.io/v1' && apiVersion !== 'admission.k8s.io/v1beta1') {
    bad(`apiVersion must be admission.k8s.io/v1, not ${JSON.stringify(apiVersion)}`, 'apiVersion');
  }
  const request = body['request'];
  if (!isObject(request)) bad('request is missing', 'request');
  const uid = request['uid'];
  if (typeof uid !== 'string' || uid.length === 0 || uid.length > 256) bad('request.uid must be a non-empty string', 'request.uid');
  const kindObj = request['kind'];
  const kind = isObject(kindObj) && typeof kindObj['kind'] === 'string' ? kindObj['kind'] : undefined;
  if (kind === undefined) bad('request.kind.kind is missing', 'request.kind');
  const operation = typeof request['operation'] === 'string' ? request['operation'] : undefined;
  const namespace = typeof request['namespace'] === 'string' ? request['namespace'] : undefined;
  const name = typeof request['name'] === 'string' ? request['name'] : undefined;
  const base = { apiVersion, uid, kind, ...(operation ? { operation } : {}), ...(namespace ? { namespace } : {}), ...(name ? { name } : {}) };
  const specPath = POD_SPEC_PATHS[kind];
  // DELETE has no object; kinds we do not know run no images we can see.
  if (!specPath || operation === 'DELETE' || request['object'] === null || request['object'] === undefined) return { ...base, images: [] };
  let node: unknown = request['object'];
  if (!isObject(node)) bad('request.object is not an object', 'request.object');
  for (const key of specPath) {
    node = isObject(node) ? node[key] : undefined;
    if (node === undefined) return { ...base, images: [] };
  }
  if (!isObject(node)) bad(`request.object.${specPath.join('.')} is not an object`, `request.object.${specPath.join('.')}`);
  const images: ImageSite[] = [];
  const prefix = '/' + specPath.map(escapePointer).join('/');
  for (const list of CONTAINER_LISTS) {
    const containers = node[list];
    if (containers === undefined || containers === null) continue;
    if (!Array.isArray(containers)) bad(`${list} is not a list`, `request.object.${specPath.join('.')}.${list}`);
    containers.forEach((c: unknown, i: number) => {
      if (!isObject(c)) bad(`${list}[${i}] is not an object`);
      const image = c['image'];
      if (typeof image !== 'string' || image.length === 0) bad(`${list}[${i}].image must be a non-empty string`);
      const cname = typeof c['name'] === 'string' ? c['name'] : String(i);
      images.push({ pointer: `${prefix}/${list}/${i}/image`, image, container: `${list}/${cname}` });
    });
  }
  return { ...base, images };
}

export interface ImageVerdict {
  readonly site: ImageSite;
  readonly allowed: boolean;
  /** The reference to run instead (`name@sha256:…`), when verified and mutating. */
  readonly pinned?: string;
  /** Why it was refused, or (allowed) why only with a warning. */
  readonly message?: string;
  readonly warning?: string;
}

export interface ReviewResponse {
  readonly apiVersion: string;
  readonly kind: 'AdmissionReview';
  readonly response: {
    readonly uid: string;
    readonly allowed: boolean;
    readonly status?: { readonly code: number; readonly message: string };
    readonly warnings?: readonly string[];
    readonly patchType?: 'JSONPatch';
    readonly patch?: string;
  };
}

/** Warnings are shown to `kubectl` users; the API server truncates long ones, so keep each short. */
const MAX_WARNING = 256;

/** Builds the response: denied if any image is; in mutating mode a JSONPatch replacing verified images. */
export function admissionResponse(review: Pick<ParsedReview, 'apiVersion' | 'uid'>, verdicts: readonly ImageVerdict[], mutate: boolean): ReviewResponse {
  const denied = verdicts.filter((v) => !v.allowed);
  const warnings = verdicts.flatMap((v) => (v.warning ? [v.warning.length > MAX_WARNING ? v.warning.slice(0, MAX_WARNING - 1) + '…' : v.warning] : []));
  const base = { uid: review.uid, ...(warnings.length ? { warnings } : {}) };
  if (denied.length > 0) {
    const message = denied.map((v) => `${v.site.container}: ${v.message ?? 'denied'}`).join('; ');
    return { apiVersion: review.apiVersion, kind: 'AdmissionReview', response: { ...base, allowed: false, status: { code: 403, message } } };
  }
  const ops = mutate ? verdicts.filter((v) => v.pinned !== undefined && v.pinned !== v.site.image).map((v) => ({ op: 'replace', path: v.site.pointer, value: v.pinned })) : [];
  return {
    apiVersion: review.apiVersion,
    kind: 'AdmissionReview',
    response: {
      ...base,
      allowed: true,
      ...(ops.length ? { patchType: 'JSONPatch' as const, patch: Buffer.from(JSON.stringify(ops)).toString('base64') } : {}),
    },
  };
}
