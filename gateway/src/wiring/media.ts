import type { Config } from '../config/index.js';
import { createMediaEngine, type MediaEngine } from '../media/index.js';
import { MediaApps } from '../media/apps/index.js';
import type { Logger, Metrics } from '../observability/index.js';

/** The media engine (mediasoup or werift) and the apps on its legs (players, recorders, feeds). */
export async function startMedia(
  config: Config,
  metrics: Metrics,
  logger: Logger,
): Promise<{ readonly media: MediaEngine; readonly mediaApps: MediaApps }> {
  const m = config.media;
  const media = await createMediaEngine(m.engine, {
    address: m.address,
    ...(m.announcedAddress ? { announcedAddress: m.announcedAddress } : {}),
    portMin: m.portMin,
    portMax: m.portMax,
    webrtcPortMin: m.webrtcPortMin,
    webrtcPortMax: m.webrtcPortMax,
    mediasoup: {
      workers: m.mediasoup.workers,
      workerBin: m.mediasoup.workerBin,
      logLevel: m.mediasoup.logLevel,
      statsIntervalMs: m.mediasoup.statsIntervalSeconds * 1000,
    },
    logger,
  });
  const mediaApps = new MediaApps({
    logger,
    metrics: {
      players: metrics.mediaPlayers,
      recorders: metrics.mediaRecorders,
      feeds: metrics.mediaFeeds,
      lateFrames: metrics.mediaLateFrames,
      skippedFrames: metrics.mediaSkippedFrames,
      errors: metrics.mediaAppErrors,
    },
  });
  return { media, mediaApps };
}
