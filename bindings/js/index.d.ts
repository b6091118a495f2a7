// Types of the cnn-playground JavaScript API (bindings/js/index.mjs).

export interface LoadOptions {
  /** 'auto': threaded where SharedArrayBuffer is usable (Node, cross-origin-isolated pages). */
  threads?: 'auto' | boolean;
  /**
   * 'auto': the relaxed-SIMD build (fused multiply-adds) where the engine validates relaxed SIMD,
   * else the SIMD128 build.
   */
  simd?: 'auto' | 'relaxed' | 'simd128';
  /** Where to find cnn-*.wasm (and the worker script), as Emscripten's locateFile. */
  locateFile?: (file: string, prefix: string) => string;
  /** Bytes the engine's tensors may hold at once (default 2 GiB in a browser, 3 GiB in Node; 0: none). */
  memoryBudget?: number;
}

export interface Backend {
  variant: 'threaded' | 'single-thread';
  reason: string;
  threads: boolean;
  hardwareConcurrency: number;
  /** What the kernels run: 'wasm-relaxed-simd' or 'wasm-simd128'. */
  simd: string;
}

export type Logs = Record<string, number>;
export interface History {
  epoch: number[];
  history: Record<string, number[]>;
}
export type TensorLike = Tensor | { data: ArrayLike<number>; shape: number[] };

export declare class Tensor {
  readonly shape: number[];
  readonly size: number;
  readonly disposed: boolean;
  /** A copy of the values. */
  dataSync(): Float32Array;
  /** A view over wasm memory, no copy: invalid after the next engine call that allocates. */
  view(): Float32Array;
  dispose(): void;
}

export interface LayerSpec {
  className: string;
  config: Record<string, unknown>;
  toKeras(): { class_name: string; config: Record<string, unknown> };
}
interface CommonLayerArgs {
  name?: string;
  trainable?: boolean;
  /** Shape without the batch axis, on the first layer of a sequential model. */
  inputShape?: number[];
}
type Pair = number | [number, number];
type Padding = 'valid' | 'same';
type ActivationName = 'linear' | 'relu' | 'sigmoid' | 'tanh' | 'softmax';

export interface Layers {
  inputLayer(args: { shape: number[]; name?: string }): LayerSpec;
  conv2d(args: CommonLayerArgs & { filters: number; kernelSize: Pair; strides?: Pair; padding?: Padding;
                                   dilationRate?: Pair; activation?: ActivationName; useBias?: boolean;
                                   kernelInitializer?: string; biasInitializer?: string }): LayerSpec;
  dense(args: CommonLayerArgs & { units: number; activation?: ActivationName; useBias?: boolean;
                                  kernelInitializer?: string; biasInitializer?: string }): LayerSpec;
  maxPooling2d(args?: CommonLayerArgs & { poolSize?: Pair; strides?: Pair; padding?: Padding }): LayerSpec;
  averagePooling2d(args?: CommonLayerArgs & { poolSize?: Pair; strides?: Pair; padding?: Padding }): LayerSpec;
  globalAveragePooling2d(args?: CommonLayerArgs): LayerSpec;
  globalMaxPooling2d(args?: CommonLayerArgs): LayerSpec;
  flatten(args?: CommonLayerArgs): LayerSpec;
  reshape(args: CommonLayerArgs & { targetShape: number[] }): LayerSpec;
  activation(args: CommonLayerArgs & { activation: ActivationName }): LayerSpec;
  zeroPadding2d(args?: CommonLayerArgs & { padding?: number | [Pair, Pair] }): LayerSpec;
  batchNormalization(args?: CommonLayerArgs & { momentum?: number; epsilon?: number; center?: boolean;
                                                scale?: boolean }): LayerSpec;
  dropout(args: CommonLayerArgs & { rate: number }): LayerSpec;
  rescaling(args: CommonLayerArgs & { scale: number; offset?: number }): LayerSpec;
  /** Keras's random image layers: random in training, the input passed through in inference. */
  randomFlip(args?: CommonLayerArgs & { mode?: 'horizontal' | 'vertical' | 'horizontal_and_vertical';
                                        seed?: number | null }): LayerSpec;
  randomRotation(args: CommonLayerArgs & ImageTransformArgs & { factor: Factor }): LayerSpec;
  randomZoom(args: CommonLayerArgs & ImageTransformArgs & { heightFactor: Factor; widthFactor?: Factor | null }):
    LayerSpec;
  randomTranslation(args: CommonLayerArgs & ImageTransformArgs & { heightFactor: Factor; widthFactor: Factor }):
    LayerSpec;
  /** The contrast drawn in [1 - lower, 1 + upper] (one number f: lower = upper = f). */
  randomContrast(args: CommonLayerArgs & { factor: Factor; valueRange?: [number, number]; seed?: number | null }):
    LayerSpec;
  /** A delta drawn as a fraction of valueRange's span (default [0, 255]). */
  randomBrightness(args: CommonLayerArgs & { factor: Factor; valueRange?: [number, number]; seed?: number | null }):
    LayerSpec;
}

/** One number f for the range [-f, f], or [lower, upper]. */
export type Factor = number | [number, number];
export interface ImageTransformArgs {
  fillMode?: 'reflect' | 'wrap' | 'constant' | 'nearest';
  interpolation?: 'bilinear' | 'nearest';
  fillValue?: number;
  seed?: number | null;
}

export interface OptimizerSpec {
  className: 'Adam' | 'SGD';
  config: Record<string, number | boolean>;
}
export interface Optimizers {
  adam(args?: { learningRate?: number; beta1?: number; beta2?: number; epsilon?: number }): OptimizerSpec;
  sgd(args?: { learningRate?: number; momentum?: number; nesterov?: boolean }): OptimizerSpec;
}

export interface FitOptions {
  batchSize?: number;
  epochs?: number;
  validationData?: [TensorLike, TensorLike];
  validationSplit?: number;
  shuffle?: boolean;
  seed?: number;
  stepsPerEpoch?: number;
  validationSteps?: number;
  onBatchEnd?: (batch: number, logs: Logs, progress: { epoch: number; steps: number; samples: number }) => unknown;
  onEpochEnd?: (epoch: number, logs: Logs) => unknown;
  /** Aborting stops after the current batch; the model stays consistent. */
  signal?: AbortSignal;
  /** Longest run of batches between yields to the event loop, in ms (default 16). */
  yieldEveryMs?: number;
}

export interface Gradients {
  output: Tensor;
  inputGrad: Tensor;
  weightGrads: Tensor[];
  loss: number;
}

export declare class Model {
  readonly name: string;
  readonly disposed: boolean;
  readonly layers: { name: string; className: string; outputShape: number[]; params: number; trainable: boolean }[];
  readonly weightsInfo: { name: string; shape: number[]; trainable: boolean }[];
  summary(): string;
  toJSON(): string;
  countParams(): number;
  trainableParams(): number;
  setTrainable(layerName: string, trainable: boolean): void;
  /** Keras's model.trainable: false freezes every layer (BatchNormalization in inference mode). */
  trainable: boolean;
  /** The preprocessing the weights expect ('caffe' for ResNet50). */
  preprocessing: '' | 'caffe';
  /** Loads Keras .h5 weights (by layer order, or by name), or a Keras 3 .weights.h5 (by the model's structure). */
  loadWeights(bytes: Uint8Array | ArrayBuffer, options?: { byName?: boolean; allowMissing?: boolean;
                                                            onProgress?: (done: number, total: number) => void }):
    Promise<{ layers: number; values: number; legacyNames: boolean; notes: string[] }>;
  /** The model as a Keras .h5 file (model.save layout; model.save_weights with weightsOnly). */
  saveKeras(options?: { metadata?: unknown; weightsOnly?: boolean }): Promise<Uint8Array>;
  getWeights(): Tensor[];
  /** A copy of one weight, by its index in getWeights() order. */
  getWeight(index: number): Tensor;
  setWeights(weights: TensorLike[]): void;
  compile(args: { optimizer?: string | OptimizerSpec; loss: string; metrics?: string[] }): void;
  fit(x: TensorLike, y: TensorLike, options?: FitOptions): Promise<History>;
  /** Keras's fit(flow, validation_data=flow, ...). */
  fit(flow: Flow, options?: Omit<FitOptions, 'validationData'> & { validationData?: Flow }): Promise<History>;
  evaluate(x: TensorLike, y: TensorLike, options?: { batchSize?: number }): Logs;
  predict(x: TensorLike, options?: { batchSize?: number }): Tensor;
  vjp(x: TensorLike, outputGrad: TensorLike, options?: { training?: boolean }): Gradients;
  lossGradients(x: TensorLike, y: TensorLike, options?: { training?: boolean }): Gradients;
  /** The model as bytes, with an optional JSON-able metadata object stored beside it. */
  save(options?: { metadata?: unknown }): Uint8Array;
  /** The metadata stored with a loaded model, or null. */
  readonly metadata: any;
  /** Outputs of the named layers for x, in one inference pass. */
  layerOutputs(x: TensorLike, layerNames: string[]): Tensor[];
  dispose(): void;
}

export interface FlowOptions {
  /** [height, width]; Keras's default is [256, 256]. */
  targetSize?: [number, number];
  colorMode?: 'rgb' | 'grayscale' | 'rgba';
  interpolation?: 'nearest' | 'bilinear';
  classMode?: 'sparse' | 'categorical' | 'binary' | 'input' | 'none';
  batchSize?: number;
  shuffle?: boolean;
  seed?: number;
  rescale?: number;
  /** keras.applications' preprocess_input, applied before rescale: 'caffe' for ResNet50's weights. */
  preprocessing?: '' | 'caffe';
  validationSplit?: number;
  subset?: 'training' | 'validation';
  /** {horizontalFlip: true, rotationRange: 15, zoomRange: [0.9, 1.1], ...} or "horizontal_flip,...". */
  augment?: string | Record<string, boolean | number | [number, number] | string>;
  /** Bytes of decoded uint8 images kept in memory; beyond it images are decoded per batch. */
  memoryBudget?: number;
  /** Decode and check every image before the first batch (default true). */
  decodeUpfront?: boolean;
}

/** A flow over a FileSet (its class is per engine: `cnn.data.Flow`, for instanceof; not a module export). */
export interface Flow {
  readonly foundMessage: string;
  readonly classIndices: Record<string, number>;
  readonly classes: string[];
  readonly countsPerClass: number[];
  readonly samples: number;
  readonly length: number;
  readonly skipped: string[];
  readonly skippedWarning: string;
  readonly emptyWarning: string;
  readonly unreadable: string[];
  readonly augmenting: boolean;
  prepare(options?: { onProgress?: (done: number, total: number) => void }): this;
  next(): { x: Tensor; y: Tensor };
  batch(index: number, options?: { epoch?: number }): { x: Tensor; y: Tensor };
  dispose(): void;
}

/** Files copied into the engine (`cnn.data.files(...)`; its class is `cnn.data.FileSet`). */
export interface FileSet {
  readonly size: number;
  flow(options?: FlowOptions): Flow;
  dispose(): void;
}

export type FileLike = File | { path: string; bytes: Uint8Array | ArrayBuffer };

export declare class Cnn {
  readonly backend: Backend;
  readonly layers: Layers;
  readonly optimizers: Optimizers;
  readonly presets: {
    /** The course's LeNet (61,706 params at 28x28x1, 10 classes). */
    lenet(args?: { inputShape?: [number, number, number]; classes?: number; seed?: number }): Model;
    /** The course's 150x150 CNN: three Conv2D(16/32/64, 3, relu) + MaxPooling2D stages -> Dense(classes). */
    courseCnn(args?: { inputShape?: [number, number, number]; classes?: number; seed?: number }): Model;
    /** keras.applications.ResNet50 (random weights): 25,636,712 params with the top, 23,587,712 without. */
    resnet50(args?: { includeTop?: boolean; inputShape?: [number, number, number]; classes?: number;
                      pooling?: '' | 'avg' | 'max'; classifierActivation?: string; seed?: number;
                      architecture?: { stemFilters?: number; blocks?: [number, number, number, number];
                                       filters?: [number, number, number, number] } }): Model;
  };
  readonly data: {
    syntheticTask(args?: { samples?: number; height?: number; width?: number; channels?: number; classes?: number;
                           noise?: number; seed?: number }): { x: Tensor; y: Tensor };
    files(files: Iterable<FileLike> | ArrayLike<FileLike>, options?: { folders?: string[] }): Promise<FileSet>;
    fromFiles(files: FileSet | Iterable<FileLike> | ArrayLike<FileLike>, options?: FlowOptions): Promise<Flow>;
    encodePng(image: TensorLike): Uint8Array;
    /** keras.utils.load_img + img_to_array (times rescale): image file bytes -> (1, H, W, C). */
    loadImage(bytes: Uint8Array | ArrayBuffer, options: { targetSize: [number, number];
      colorMode?: 'rgb' | 'grayscale' | 'rgba'; interpolation?: 'nearest' | 'bilinear'; rescale?: number;
      preprocessing?: '' | 'caffe'; name?: string }): Tensor;
    Flow: abstract new (...args: never[]) => Flow;
    FileSet: abstract new (...args: never[]) => FileSet;
  };
  tensor(values: ArrayLike<number> | null, shape: number[]): Tensor;
  /** The first entry may be a model (a backbone), whose layers the new model shares. */
  sequential(layers: LayerSpec[] | [Model, ...LayerSpec[]], options?: { name?: string; seed?: number }): Model;
  modelFromJSON(json: string | object, options?: { seed?: number }): Model;
  loadModel(bytes: Uint8Array | ArrayBuffer): Model;
  /** keras.models.load_model of a Keras model file: .h5 (tf.keras model.save) or Keras 3's .keras archive. */
  loadKerasModel(bytes: Uint8Array | ArrayBuffer): Promise<Model>;
  heap(): { used: number; heapSize: number; budget: number; tensors: number; peakTensors: number };
  /** The engine's tensor memory against its budget, in bytes. */
  memory(): { budget: number; tensors: number; peakTensors: number };
  /** Bytes the engine's tensors may hold at once (0: no budget). */
  setMemoryBudget(bytes: number): void;
  /** Threads the engine computes on (1 in the single-thread build). */
  readonly threads: number;
  /** The most threads this build can use. */
  readonly maxThreads: number;
  /** Sets the engine's thread count (1 to maxThreads), between calls. */
  setThreads(n: number): void;
  dispose(): void;
}

export declare function loadCnn(options?: LoadOptions): Promise<Cnn>;
export declare const layers: Layers;
export declare const optimizers: Optimizers;
