export { addGradients, appendGradients, gradName, GradientError } from './grad';
export type { GradientOptions } from './grad';
export { registerGradient, registeredOps } from './registry';
export { GradContext } from './context';
export type { GradientRule } from './context';
export { checkGradients, weightedSum, seededRandom } from './gradcheck';
export type { GradCheckInput, GradCheckResult } from './gradcheck';
