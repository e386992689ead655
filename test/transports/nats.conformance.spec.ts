import { runConformanceSuite } from './conformance/conformance-suite.js';
import { natsFixture } from './conformance/nats.fixture.js';

await runConformanceSuite(natsFixture);
