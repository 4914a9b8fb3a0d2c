# syntax=docker/dockerfile:1
# Build: docker build -t rollsafe:0.1.0 .
# Run:   docker run -p 8443:8443 -v $PWD/certs/dev:/tls:ro rollsafe:0.1.0 --tls-cert /tls/tls.crt --tls-key /tls/tls.key
#        (the key must be readable by uid 65532; in Kubernetes the Secret volume takes care of it)

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# Distroless: no shell, no package manager; Node 20 and our files only.
FROM gcr.io/distroless/nodejs20-debian12:nonroot
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The distroless "nonroot" user, numeric so runAsNonRoot can verify it.
USER 65532:65532
EXPOSE 8443 9090
ENTRYPOINT ["/nodejs/bin/node", "dist/cli.js", "serve"]
