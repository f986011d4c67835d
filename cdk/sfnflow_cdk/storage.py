"""The payload bucket: node outputs too large for a state or a DynamoDB item.

Encrypted, TLS only, no public access, objects expire after the run data's retention
(the ``expiresAt`` TTL of the tables), and server access logs go to a second bucket.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_s3 as s3
from constructs import Construct


class PayloadStorage(Construct):
    def __init__(self, scope: Construct, id: str, *, retention_days: int,
                 removal_policy: RemovalPolicy) -> None:
        super().__init__(scope, id)
        self.access_logs = s3.Bucket(
            self, "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(90))],
            removal_policy=removal_policy,
        )
        self.bucket = s3.Bucket(
            self, "Payloads",
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="payloads/",
            lifecycle_rules=[s3.LifecycleRule(
                expiration=Duration.days(retention_days),
                abort_incomplete_multipart_upload_after=Duration.days(1))],
            removal_policy=removal_policy,
        )
