export { KUBERNETES_VERSION, COMPONENTS, binDir, cachedBinaries, etcdBinary, fetchKubernetes, ldflags, scratchGoMod, stagingModules, type FetchOptions } from './fetch';
export { NODE_NAME, clusterStatus, runs, startCluster, stopCluster, type ClusterInfo, type ClusterOptions, type NodeMode } from './cluster';
export { PAUSE_IMAGE, containerdConfig, kubeletConfig, nodeBlockers, defaultNodeIp } from './node';
export { importImage, ociImageArchive, type ImageSpec } from './image';
export { K8S_STATE_DIR_ENV, K8S_TEST_PORT, REQUIRE_K8S_ENV, describeK8s, stopTestCluster, testCluster, type TestCluster } from './testing';
