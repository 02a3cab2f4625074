"""Deployment to Amazon Managed Service for Apache Flink: the application zip and the stack."""
