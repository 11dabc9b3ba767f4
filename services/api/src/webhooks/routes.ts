import type { HttpApp } from "@custody/http";
import type { ApiContext } from "../shared/context.js";
import { routeGroup } from "../shared/route-group.js";
import { createEndpointRoute, deleteEndpointRoute, listEndpointsRoute, readEndpointRoute } from "./endpoint-routes.js";
import { fatAcknowledgementRoute } from "./fat-acknowledgement-routes.js";
import { revokePreviousSecretRoute, rotateSecretRoute } from "./secret-routes.js";
import { testEventRoute } from "./test-events-routes.js";
import { updateEndpointRoute } from "./update-route.js";

/**
 * `/api/v2/webhooks`: endpoints, their signing secrets, the acknowledgement a fat switch needs, and
 * test events. A portal session reaches only what a group's rule lets it, on its own endpoints.
 */
export async function webhookRoutes(app: HttpApp, ctx: ApiContext): Promise<void> {
  routeGroup(app, ctx.db, { scope: "admin" }, (admin) => {
    createEndpointRoute(admin, ctx);
    deleteEndpointRoute(admin, ctx);
    testEventRoute(admin, ctx);
  });
  routeGroup(app, ctx.db, { scope: "read", portal: { capability: "read" } }, (read) => listEndpointsRoute(read, ctx));
  routeGroup(app, ctx.db, { scope: "read", portal: { capability: "read", endpointParam: "id" } }, (read) => {
    readEndpointRoute(read, ctx);
    fatAcknowledgementRoute(read, ctx);
  });
  routeGroup(app, ctx.db, { scope: "admin", portal: { capability: "payloadShape", endpointParam: "id" } }, (shape) => updateEndpointRoute(shape, ctx));
  routeGroup(app, ctx.db, { scope: "admin", portal: { capability: "rotateSecret", endpointParam: "id" } }, (rotate) => {
    rotateSecretRoute(rotate, ctx);
    revokePreviousSecretRoute(rotate, ctx);
  });
}
