import { loadConfig } from "@custody/config";
import { onShutdown, openDependencies } from "@custody/runtime";

const config = loadConfig("pipeline");
const deps = await openDependencies("pipeline", config);
onShutdown(deps.logger, config.CUSTODY_SHUTDOWN_GRACE_MS, () => deps.close());
deps.logger.info("pipeline started");
