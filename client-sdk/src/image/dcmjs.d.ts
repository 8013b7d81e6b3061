/** The part of dcmjs (no bundled types) that the SDK and its tests use. */
declare module 'dcmjs' {
  interface DicomDict {
    meta: Record<string, unknown>;
    dict: Record<string, { vr: string; Value: unknown[] }>;
    write(options?: Record<string, unknown>): ArrayBuffer;
  }
  const dcmjs: {
    data: {
      DicomMessage: { readFile(buffer: ArrayBuffer, options?: Record<string, unknown>): DicomDict };
      DicomMetaDictionary: { naturalizeDataset(dict: Record<string, unknown>): Record<string, unknown> };
    };
  };
  export default dcmjs;
}
