// Angle analysis (docs METHOD.md §5).
export { ANGLE_EPSILON, angleCosine } from './angle-cosine';
export { AngleAccumulator, type AngleBatch, type HistogramBin, type StudentLayerAngles } from './angle-accumulator';
