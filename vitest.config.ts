// Two layers: fast pure tests (unit), and tests that build network namespaces
// and run the real daemon (integration). `npm test` runs the layers one after the other.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['{daemon,analyzers,services,opennap,policies,systemd,test-net,bench}/**/*.test.ts'],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['{daemon,analyzers,services,opennap,policies,systemd,test-net,bench}/**/*.itest.ts'],
          testTimeout: 300_000,
          hookTimeout: 120_000,
          // Integration files share the kernel (namespaces, iptables): one at a time.
          pool: 'forks',
          poolOptions: { forks: { singleFork: true } },
        },
      },
    ],
  },
});
