// A compiled rtsr model: load() it in a page (WebAssembly SIMD, on Web Workers where the page is cross-origin
// isolated) or in Node (worker_threads), then upscale RGB frames. Nothing else to install: this folder holds the
// runtime (rtsr.js, worker.js; rtsr.node.js, worker-node.js), the weights (model.rtsr) and the manifest.
const isNode = typeof process === 'object' && typeof process.versions?.node === 'string';
const rt = await import(isNode ? './rtsr.node.js' : './rtsr.js');

async function bytes(name) {
  const url = new URL(name, import.meta.url);
  return new Uint8Array(isNode ? await rt.readFile(url) : await (await fetch(url)).arrayBuffer());
}

export async function load({ threads, tune = true } = {}) {
  const manifest = JSON.parse(new TextDecoder().decode(await bytes('./manifest.json')));
  if (manifest.format !== 'rtsr-compiled-model' || manifest.version !== 1) throw new Error(`manifest.json: not an rtsr compiled model of version 1 (${manifest.format} ${manifest.version})`);
  const { model } = rt.decodeModel(await bytes('./model.rtsr'), 'model.rtsr');
  const compiled = await rt.compile(model, { target: rt.wasmTarget, threads, tune });
  return {
    scale: compiled.scale,
    manifest,
    upscale: (img) => compiled.runImage(rt.rgbImage(img.width, img.height, img.data)),
    run: (rgb, h, w) => compiled.run(rgb, h, w),
    dispose: () => compiled.dispose(),
  };
}
