// @strata/service: the shell shared by teacher-inference and the evaluator (config from the environment, path
// confinement, the express app with auth, limits, health and metrics, graceful stop).
export { NO_TOKEN_WARNING, PathOutsideRootError, confinePath, isLoopback, serviceConfig, type ServiceConfig } from './config';
export { BODY_LIMIT, HttpError, createServiceApp, errorHandler, listen, onShutdown, parseBody, type Listening, type ServiceApp, type ServiceAppOptions } from './http';
export { LOG_FORMATS, logRecord, serviceLogFormat, useJsonStderr, useServiceLogFormat, writeLog, type LogFormat, type LogLevel, type LogRecord } from './log-format';
export { startServiceProcess, stopServiceProcess, type ServiceProcess } from './process';
