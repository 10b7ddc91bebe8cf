export { DeskSessions, DESK_COOKIE, type DeskIdentity } from './desk-session.js';
export { DeskHub, presenceView } from './desk-hub.js';
export { deskIdentity, deskPage, requireDeskSession } from './desk-http.js';
export { deskRouter, type DeskRouterDeps } from './desk-router.js';
export { deskEventsUpgrade, DESK_EVENTS_PATH } from './desk-events.js';
export { callContext } from './call-context.js';
export { DeskFlowFeed, type DeskNotifier } from './flow-feed.js';
export { DeskCallbackFeed, deskCallbackView } from './callback-feed.js';
