export { KAFKA_VERSION, brokerStatus, fetchKafka, missingPrerequisites, restartBroker, startBroker, stopBroker, serverProperties, pomXml, randomClusterId, type BrokerInfo, type BrokerOptions } from './broker';
export { probeBroker, waitForBroker, type ProbeResult } from './probe';
