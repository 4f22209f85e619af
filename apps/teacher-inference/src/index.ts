export { createTeacherInference, type TeacherInference } from './app';
export { CacheJobs, cacheRequestSchema, type CacheRequest, type JobState, type JobStatus } from './jobs';
