/**
 * src/support/diag.ts: with a diag logger registered (the app's, or OTEL_LOG_LEVEL's), every message of the package
 * goes through OpenTelemetry's `diag` at its level; with none, the package's own warnings and errors go to stderr
 * and nothing else does, and nothing is registered in the API's global.
 */
import { diag as otelDiag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { diag, PACKAGE_MESSAGE_PREFIX, registeredWithApi } from '../../src/support';

const OWN = `${PACKAGE_MESSAGE_PREFIX} the collector at http://127.0.0.1:4318 is not answering`;

function recordingLogger(): { lines: string[]; logger: DiagLogger } {
  const lines: string[] = [];
  const at = (level: string) => (message: string) => void lines.push(`${level} ${message}`);
  return {
    lines,
    logger: {
      error: at('error'),
      warn: at('warn'),
      info: at('info'),
      debug: at('debug'),
      verbose: at('verbose'),
    },
  };
}

describe('the package diag', () => {
  afterEach(() => {
    otelDiag.disable();
    jest.restoreAllMocks();
  });

  it("with the app's diag logger: every message at its level, filtered by the logger's level", () => {
    const { lines, logger } = recordingLogger();
    otelDiag.setLogger(logger, { logLevel: DiagLogLevel.INFO, suppressOverrideMessage: true });
    diag.error(OWN);
    diag.warn('a bad-input warning of the recording path');
    diag.info('an info line');
    diag.debug('below the logger level');
    expect(lines).toEqual([
      `error ${OWN}`,
      'warn a bad-input warning of the recording path',
      'info an info line',
    ]);
  });

  it("without any logger: the package's own warnings and errors on stderr, nothing else, nothing registered", () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const error = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const info = jest.spyOn(console, 'info').mockImplementation(() => undefined);
    expect(registeredWithApi()?.diag).toBeUndefined();
    diag.warn(OWN);
    diag.error(OWN, 'with an argument');
    diag.warn('a bad-input warning of the recording path (quiet unless OTEL_LOG_LEVEL asks)');
    diag.info(`${PACKAGE_MESSAGE_PREFIX} info stays quiet`);
    diag.debug(OWN);
    expect(warn.mock.calls).toEqual([[OWN]]);
    expect(error.mock.calls).toEqual([[OWN, 'with an argument']]);
    expect(info).not.toHaveBeenCalled();
    expect(registeredWithApi()?.diag).toBeUndefined();
  });

  it('never throws on a message that is not a string', () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    expect(() => diag.warn(42 as unknown as string)).not.toThrow();
    expect(warn).not.toHaveBeenCalled();
  });
});
