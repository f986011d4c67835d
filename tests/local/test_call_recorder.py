"""``local.call_recorder``'s IAM requests for Secrets Manager: a secret named by name
authorizes as its ARN, which ends in ``-`` and six characters only AWS knows, so it must
match a one-secret policy (``<name>-??????``) and the stage's prefix (``.../*``)."""

from __future__ import annotations

from local.call_recorder import Request, _Context, requests_for
from tests.support.iam_policy import matches

CONTEXT = _Context(region="eu-west-1", account="111122223333", endpoint="")
SECRETS = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:"


def test_a_secret_named_by_name_is_its_arn_with_six_characters() -> None:
    [request] = requests_for("secretsmanager", "GetSecretValue",
                             {"SecretId": "sfnflow/dev/credentials/partner"}, CONTEXT)
    assert request.action == "secretsmanager:GetSecretValue"
    [arn] = request.resources
    assert matches(SECRETS + "sfnflow/dev/credentials/partner-??????", arn)
    assert matches(SECRETS + "sfnflow/dev/credentials/*", arn)
    assert not matches(SECRETS + "sfnflow/dev/credentials/partner-other-??????", arn)


def test_an_arn_is_kept_and_tags_at_creation_need_tag_resource() -> None:
    arn = SECRETS + "sfnflow/dev/credentials/partner-a1B2c3"
    assert requests_for("secretsmanager", "DeleteSecret", {"SecretId": arn}, CONTEXT) == [
        Request("secretsmanager:DeleteSecret", (arn,))]
    created = requests_for("secretsmanager", "CreateSecret",
                           {"Name": "n", "SecretString": "{}",
                            "Tags": [{"Key": "k", "Value": "v"}]}, CONTEXT)
    assert [r.action for r in created] == ["secretsmanager:CreateSecret",
                                           "secretsmanager:TagResource"]
    assert requests_for("secretsmanager", "ListSecrets", {}, CONTEXT) == [
        Request("secretsmanager:ListSecrets", ("*",))]
