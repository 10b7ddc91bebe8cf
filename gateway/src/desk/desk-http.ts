/**
 * What every page and API route under /desk shares (the desk's own routes and
 * the voicemail desk's, `voicemail/desk-routes.ts`): the HTML page that loads
 * desk.js with its content security policy, and the desk session cookie that
 * every /desk/api route but sign-in needs.
 */
import type { RequestHandler, Response } from 'express';
import { ParleyError } from '@parley/shared/errors';
import type { DeskIdentity, DeskSessions } from './desk-session.js';

/** The page: `<element>` from the desk bundle (media from blobs: the voicemail player). */
export function deskPage(title: string, element: string): RequestHandler {
  const page = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Parley — ${title}</title>
    <script type="module" src="/desk/assets/desk.js"></script>
  </head>
  <body style="margin:0;font-family:system-ui,sans-serif;background:#f4f5f9">
    <${element}></${element}>
  </body>
</html>
`;
  return (_req, res) => {
    res.setHeader(
      'content-security-policy',
      "default-src 'self'; connect-src 'self' ws: wss:; media-src 'self' blob:; style-src 'self' 'unsafe-inline'",
    );
    res.type('html').send(page);
  };
}

/** 401 unauthorized without a valid desk session; else the agent is `deskIdentity(res)`. */
export function requireDeskSession(sessions: DeskSessions): RequestHandler {
  return (req, res, next) => {
    const identity = sessions.fromRequest(req);
    if (!identity) {
      next(new ParleyError('unauthorized', 'sign in to the desk'));
      return;
    }
    res.locals['desk'] = identity;
    next();
  };
}

/** The signed-in agent of a request `requireDeskSession` let through. */
export function deskIdentity(res: Response): DeskIdentity {
  return res.locals['desk'] as DeskIdentity;
}
