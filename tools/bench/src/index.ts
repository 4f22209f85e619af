export { benchTrainStep } from './train-step';
export type { TrainStepReport } from './train-step';
export { measureMatMulPeak } from './matmul-peak';
export type { MatMulPeak } from './matmul-peak';
export { benchKafkaClients, recordSets } from './kafka-clients';
export type { ClientFigures, KafkaClientsReport, RecordSet } from './kafka-clients';
export { benchGatherGrad } from './gather-grad';
export type { GatherGradCase } from './gather-grad';
