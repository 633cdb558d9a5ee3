"""Make an Amazon Cognito user pool in moto with two app clients and a user, and print tokens.

Usage: python cognito_tokens.py MOTO_ENDPOINT
Prints one JSON object: pool_id, issuer, jwks_url, client_a, client_b, and for the user
signed in through each client its access token (access_a, access_b) and the ID token of
client a (id_a). moto signs them with RS256 and serves the pool's JWKS at
{endpoint}/{pool_id}/.well-known/jwks.json. Exits non-zero on any failure.
"""

import json
import sys

import boto3


def main(endpoint: str) -> dict:
    idp = boto3.client(
        "cognito-idp",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    pool = idp.create_user_pool(PoolName="mcp-users")["UserPool"]["Id"]
    flows = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    clients = [
        idp.create_user_pool_client(UserPoolId=pool, ClientName=name, ExplicitAuthFlows=flows)[
            "UserPoolClient"
        ]["ClientId"]
        for name in ("mcp-app", "other-app")
    ]
    password = "Test-only-Passw0rd!"
    idp.admin_create_user(
        UserPoolId=pool, Username="alice", TemporaryPassword=password, MessageAction="SUPPRESS"
    )
    idp.admin_set_user_password(UserPoolId=pool, Username="alice", Password=password, Permanent=True)
    results = [
        idp.initiate_auth(
            ClientId=c,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "alice", "PASSWORD": password},
        )["AuthenticationResult"]
        for c in clients
    ]
    return {
        "pool_id": pool,
        "issuer": f"https://cognito-idp.us-east-1.amazonaws.com/{pool}",
        "jwks_url": f"{endpoint}/{pool}/.well-known/jwks.json",
        "client_a": clients[0],
        "client_b": clients[1],
        "access_a": results[0]["AccessToken"],
        "access_b": results[1]["AccessToken"],
        "id_a": results[0]["IdToken"],
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
