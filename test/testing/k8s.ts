/**
 * Kubernetes manifest checks for the deployment tests (not a test file):
 * validation against the Kubernetes OpenAPI schemas and the custom resources'
 * schemas (kubernetes-models), and a strict check that refuses any field the
 * API does not declare.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { ROOT } from './deploy.js';

export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string }; [k: string]: unknown };

/** Custom resources (cert-manager, external-secrets, Prometheus Operator): their own kubernetes-models packages. */
const CRD_MODELS: Record<string, string> = {
  'cert-manager.io/v1': '@kubernetes-models/cert-manager/cert-manager.io/v1',
  'external-secrets.io/v1beta1': '@kubernetes-models/external-secrets/external-secrets.io/v1beta1',
  'monitoring.coreos.com/v1': '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1',
};

/** The module declaring an object's model (class `Kind`, interface `IKind`). */
export function modelModule(o: { apiVersion: string; kind: string }): string {
  const crd = CRD_MODELS[o.apiVersion];
  if (crd) return o.apiVersion === 'monitoring.coreos.com/v1' ? `${crd}/${o.kind}` : crd;
  const [group, version] = o.apiVersion.includes('/') ? o.apiVersion.split('/') : [undefined, o.apiVersion];
  return `kubernetes-models/${group ? `${group}/` : ''}${version}/${o.kind}`;
}

export async function validateK8s(obj: K8sObject): Promise<void> {
  const mod = (await import(/* @vite-ignore */ modelModule(obj))) as Record<string, new (o: unknown) => { validate(): void }>;
  const Model = mod[obj.kind] ?? (mod.default as unknown as Record<string, new (o: unknown) => { validate(): void }>)?.[obj.kind];
  if (!Model) throw new Error(`no schema for ${obj.apiVersion} ${obj.kind}`);
  new Model(obj).validate();
}

/**
 * Strict check (unknown fields refused, as kubeconform -strict does): each
 * object as a typed literal against kubernetes-models' declarations, compiled
 * with TypeScript, whose excess-property checks reject any key the API type
 * does not declare. Returns the compiler's messages (empty when all are valid).
 */
export function strictK8s(objects: K8sObject[]): string[] {
  const dir = path.join(ROOT, 'tmp');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `k8s-strict-${process.pid}-${Date.now()}.ts`);
  const lines = objects.map((o, i) => `import type { I${o.kind} as T${i} } from '${modelModule(o)}';\nexport const o${i}: T${i} = ${JSON.stringify(o)};`);
  writeFileSync(file, lines.join('\n'));
  try {
    const program = ts.createProgram([file], { strict: true, noEmit: true, skipLibCheck: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, types: [] });
    return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  } finally {
    rmSync(file, { force: true });
  }
}

/** A manifest object with the parts the tests read. */
export type Obj = K8sObject & { spec?: Record<string, unknown>; data?: Record<string, string> };
