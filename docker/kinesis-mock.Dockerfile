# kinesis-mock from npm, the same package and version as `npm ci` installs for `make demo`
# (package.json, package-lock.json). Build context: the repository root.
FROM node:22.23.1-bookworm-slim
WORKDIR /opt/kinesis-mock
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
# main.js opens its TLS certificate, server.json, relative to the working directory.
WORKDIR /opt/kinesis-mock/node_modules/kinesis-local
USER node
EXPOSE 4568
CMD ["node", "main.js"]
