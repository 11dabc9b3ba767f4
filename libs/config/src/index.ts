export { loadConfig, type Config } from "./load.js";
export { fields, PIPELINE_STAGES, type FieldName } from "./fields.js";
export { serviceFields, type ServiceName } from "./schemas.js";
export { configurationMarkdown } from "./docs.js";
