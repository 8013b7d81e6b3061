/**
 * Save a tfjs-layers model as a TF.js Layers file (model.json + one weight
 * shard, the format read-tfjs.ts reads) into a folder: tfjs-layers is an
 * independent implementation of the Keras layers, used as the oracle of the
 * importer (keras-oracle.test.ts, bench/keras-oracle.ts).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';

/** Writes dir/model.json and dir/weights.bin; returns the model.json path. */
export async function saveTfjsLayers(model: tf.LayersModel, dir: string): Promise<string> {
  await model.save(tf.io.withSaveHandler(async (art) => {
    const wd = art.weightData;
    const parts = wd === undefined ? [] : Array.isArray(wd) ? wd : [wd];
    writeFileSync(path.join(dir, 'weights.bin'), Buffer.concat(parts.map((b) => Buffer.from(b))));
    const json = { format: 'layers-model', generatedBy: 'tfjs-layers (keras oracle)', convertedBy: null, modelTopology: art.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: art.weightSpecs }] };
    writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  return path.join(dir, 'model.json');
}
