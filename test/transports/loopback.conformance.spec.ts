import { runConformanceSuite } from './conformance/conformance-suite.js';
import { loopbackFixture } from './conformance/loopback.fixture.js';

await runConformanceSuite(loopbackFixture);
