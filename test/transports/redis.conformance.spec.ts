import { runConformanceSuite } from './conformance/conformance-suite.js';
import { redisFixture } from './conformance/redis.fixture.js';

await runConformanceSuite(redisFixture);
