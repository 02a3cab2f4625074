"""Deployment to Amazon Managed Service for Apache Flink: the application zip and the stack."""


class DeployError(RuntimeError):
    """A deployment step cannot go on; the message names the input and the fix."""
