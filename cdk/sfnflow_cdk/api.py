"""The REST API (API Gateway).

Management routes (``/workflows``, ``/executions``, ``/openapi.json``) go to the API
function and need an API key (a usage plan throttles them); ``/webhook/{proxy+}`` goes to
the webhooks function and is public — the handler checks each webhook's HMAC signature.
So is ``POST /executions/{execution_id}/resume/{wait_id}``, a static sibling of the
execution's ``{proxy+}`` (API Gateway prefers it): the API function checks the signed
resume URL of a paused wait (``functions.services.waits``). ``GET /viewer`` and
``GET /viewer/{proxy+}`` are public too: the execution viewer's static files, which hold no
data (``functions.api.viewer``); the page calls the keyed routes with the key a person gives.
Access logs go to CloudWatch; API Gateway's own errors (missing key, throttling, bad
request) answer with the API's JSON error shape ``{"error": {"type", "message", "details"}}``.

Every route the API function serves has a resource here (``tests/cdk/test_api.py`` derives
them from the function's router). Request bodies reach the functions byte for byte
(binary media types ``*/*``), and every resource answers a CORS preflight without an API
key, through the function behind it (``functions.api.gateway``).
"""

from __future__ import annotations

from aws_cdk import Aws, RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from functions.api.gateway import BINARY_MEDIA_TYPES
from sfnflow_cdk.naming import Naming

MANAGEMENT_ROOTS = ("workflows", "executions", "admin", "stream-tokens", "stats",
                    "costs", "credentials")
WEBHOOK_ROOT = "webhook"
VIEWER_ROOT = "viewer"  # the execution viewer: public static files (functions.api.viewer)

# API Gateway's own responses -> the error type the API's handler would use.
GATEWAY_ERRORS = {
    apigw.ResponseType.UNAUTHORIZED: "Unauthorized",
    apigw.ResponseType.ACCESS_DENIED: "Forbidden",
    apigw.ResponseType.INVALID_API_KEY: "Forbidden",
    apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN: "NotFound",
    apigw.ResponseType.THROTTLED: "TooManyRequests",
    apigw.ResponseType.QUOTA_EXCEEDED: "TooManyRequests",
    apigw.ResponseType.BAD_REQUEST_PARAMETERS: "BadRequest",
    apigw.ResponseType.BAD_REQUEST_BODY: "BadRequest",
    # the request limits ``sfnflow serve`` enforces too (``local.server``)
    apigw.ResponseType.REQUEST_TOO_LARGE: "RequestTooLarge",
    apigw.ResponseType.INTEGRATION_TIMEOUT: "IntegrationTimeout",
    apigw.ResponseType.DEFAULT_4_XX: "ClientError",
    apigw.ResponseType.DEFAULT_5_XX: "InternalError",
}
# API Gateway answers a path or method no resource defines with 403 "Missing
# Authentication Token"; the API says what happened, as ``sfnflow serve`` does: 404.
# (keyed by the type's name: jsii gives a new ResponseType object on every access)
GATEWAY_STATUS = {apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN.response_type: "404"}
_ERROR_TEMPLATE = ('{"error": {"type": "%s", "message": $context.error.messageString, '
                   '"details": {"requestId": "$context.requestId"}}}')


class PlatformApi(Construct):
    def __init__(self, scope: Construct, id: str, *, naming: Naming,
                 api_function: lambda_.IFunction, webhooks_function: lambda_.IFunction,
                 rate_limit: int, burst_limit: int, log_retention: logs.RetentionDays,
                 removal_policy: RemovalPolicy, cors_origin: str = "*") -> None:
        super().__init__(scope, id)
        self.stage_name = naming.stage
        self._preflights: set[str] = set()
        access_logs = logs.LogGroup(self, "AccessLogs", retention=log_retention,
                                    removal_policy=removal_policy)
        self.api = apigw.RestApi(
            self, "Api",
            rest_api_name=naming.prefix,
            description="sfnflow: workflows, executions and webhooks",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            api_key_source_type=apigw.ApiKeySourceType.HEADER,
            binary_media_types=list(BINARY_MEDIA_TYPES),
            cloud_watch_role=True,  # access logging needs the account's CloudWatch role
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN,
            deploy_options=apigw.StageOptions(
                stage_name=self.stage_name,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False, http_method=True, ip=True, protocol=True,
                    request_time=True, resource_path=True, response_length=True,
                    status=True, user=False),
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
                tracing_enabled=True,
                throttling_rate_limit=rate_limit,
                throttling_burst_limit=burst_limit,
            ),
        )
        self.validator = self.api.add_request_validator(
            "Validator", validate_request_parameters=True, validate_request_body=True)
        # A browser reads API Gateway's own errors too (a wrong key, throttling) only with
        # the origin header; one static value: the first configured origin.
        origin = cors_origin.split(",")[0].strip() or "*"
        for response_type, error_type in GATEWAY_ERRORS.items():
            self.api.add_gateway_response(
                f"{error_type}{response_type.response_type}",
                type=response_type,
                status_code=GATEWAY_STATUS.get(response_type.response_type),
                response_headers={"Access-Control-Allow-Origin": f"'{origin}'"},
                templates={"application/json": _ERROR_TEMPLATE % error_type})

        management = apigw.LambdaIntegration(api_function, allow_test_invoke=False)
        for root in MANAGEMENT_ROOTS:
            resource = self.api.root.add_resource(root)
            self._add(resource, "ANY", management, api_key=True)
            if root == "executions":  # one static route below an execution is public
                resource = resource.add_resource("{execution_id}")
                self._add(resource, "ANY", management, api_key=True)
                resume = resource.add_resource("resume").add_resource("{wait_id}")
                self._add(resume, "POST", management, api_key=False)
            self._add(resource.add_resource("{proxy+}"), "ANY", management, api_key=True)
        self._add(self.api.root.add_resource("openapi.json"), "GET", management, api_key=True)
        viewer = self.api.root.add_resource(VIEWER_ROOT)  # public: the page holds no data
        self._add(viewer, "GET", management, api_key=False)
        self._add(viewer.add_resource("{proxy+}"), "GET", management, api_key=False)
        webhooks = apigw.LambdaIntegration(webhooks_function, allow_test_invoke=False)
        self._add(self.api.root.add_resource(WEBHOOK_ROOT).add_resource("{proxy+}"), "ANY",
                  webhooks, api_key=False)

        self.usage_plan = self.api.add_usage_plan(
            "UsagePlan", name=f"{naming.prefix}-management",
            description="sfnflow management API",
            throttle=apigw.ThrottleSettings(rate_limit=rate_limit, burst_limit=burst_limit),
            api_stages=[apigw.UsagePlanPerApiStage(api=self.api,
                                                   stage=self.api.deployment_stage)])
        self.api_key = self.api.add_api_key("ApiKey", api_key_name=f"{naming.prefix}-admin",
                                            description="sfnflow management API key")
        self.usage_plan.add_api_key(self.api_key)

    def _add(self, resource: apigw.IResource, method: str,
             integration: apigw.Integration, *, api_key: bool) -> apigw.Method:
        parameters = {"method.request.path.proxy": True} if resource.path.endswith(
            "{proxy+}") else None
        if resource.path not in self._preflights:
            # CORS preflights carry no x-api-key: the function behind answers them.
            self._preflights.add(resource.path)
            resource.add_method("OPTIONS", integration, api_key_required=False,
                                request_validator=self.validator,
                                request_parameters=parameters)
        return resource.add_method(method, integration, api_key_required=api_key,
                                   request_validator=self.validator,
                                   request_parameters=parameters)

    @property
    def url(self) -> str:
        """The stage's base URL, built from the API's id: no dependency on the deployment,
        so the API's own functions can carry it without a cycle."""
        return (f"https://{self.api.rest_api_id}.execute-api.{Aws.REGION}.{Aws.URL_SUFFIX}"
                f"/{self.stage_name}")
