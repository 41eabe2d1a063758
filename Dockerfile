# Two stages: TypeScript and the dev dependencies stay in the build stage; the runtime image
# holds only production dependencies and the compiled output.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
# Explicit copies (not `COPY . .`) so a local node_modules, dist or .data never leaks in.
COPY tsconfig.json ./
COPY proto ./proto
COPY lua ./lua
COPY src ./src
COPY bench ./bench
COPY scripts ./scripts
RUN npm run build

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
COPY --from=build /app/dist ./dist
# Loaded at run time from the project root: the protos, the Lua scripts and the migrations.
COPY proto ./proto
COPY lua ./lua
COPY src/db/migrations ./src/db/migrations
# DATA_DIR defaults to .data; only used when REDIS_URL or DATABASE_URL is unset, but it must be
# writable by the unprivileged user if it ever is.
RUN mkdir -p /app/.data && chown node:node /app/.data
USER node
EXPOSE 50051 8080
CMD ["node", "dist/src/main.js"]
