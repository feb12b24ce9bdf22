"""The GraphQL operations the console runs (the same API any client uses)."""

FACTORY_HOME = """
query ConsoleFactoryHome {
  viewer { organization { name } factory { name hubId country } }
  requests: consents(filter: {status: REQUESTED}, first: 100) {
    totalCount
    edges { node { id scopes message requestedAt buyer { id name country } } }
  }
  grants: consents(filter: {status: GRANTED}, first: 100) {
    totalCount
    edges { node { id scopes grantedAt expiresAt ledgerSeq buyer { id name country } } }
  }
  history: consents(first: 100) {
    edges { node { id status scopes ledgerSeq reason requestedAt grantedAt declinedAt revokedAt
                   expiresAt buyer { name } } }
  }
}
"""

GRANT = """
mutation ConsoleGrant($b: ID!, $s: [ConsentScope!]!, $e: DateTime) {
  grantConsent(buyerId: $b, scopes: $s, expiresAt: $e) { id status ledgerSeq }
}
"""

DECLINE = """
mutation ConsoleDecline($c: ID!, $r: String) {
  declineRequest(consentId: $c, reason: $r) { id status ledgerSeq }
}
"""

REVOKE = """
mutation ConsoleRevoke($c: ID!, $r: String) {
  revokeConsent(consentId: $c, reason: $r) { id status ledgerSeq }
}
"""

DISCLOSURES = """
query ConsoleDisclosures($filter: DisclosureFilter) {
  disclosures(filter: $filter, first: 100) {
    totalCount
    edges { node { at scope assessmentId consentLedgerSeq buyer { id name country } } }
  }
  buyers: consents(first: 100) { edges { node { buyer { id name } } } }
}
"""

PLAN = """
query ConsolePlan {
  viewer {
    factory {
      name
      latestAssessment {
        id cycle publishedAt
        improvementPlan { id questionCode action dueDate status }
      }
    }
  }
}
"""

PLAN_UPDATE = """
mutation ConsolePlanUpdate($id: ID!, $s: ImprovementActionStatus!) {
  updateImprovementAction(id: $id, status: $s) { id status }
}
"""

RECEIPT = "query ConsoleReceipt($seq: Int!) { consentReceipt(seq: $seq) }"

LEDGER = """
query ConsoleLedger($after: Int!, $first: Int!, $f: ID, $b: ID) {
  consentLog(after: $after, first: $first, factoryId: $f, buyerId: $b) {
    treeSize nextAfter
    events { seq at type consentId factoryId buyerId scopes expiresAt reason }
  }
}
"""

FACTORY_BY_NAME = """
query ConsoleFactoryByName($n: String!) {
  factories(filter: {nameContains: $n}, first: 1) { edges { node { id name } } }
}
"""

CHECKPOINTS = """
query ConsoleCheckpoints { checkpoints(last: 2) { treeSize rootHash issuedAt note } }
"""

CONSISTENCY = """
query ConsoleConsistency($from: Int!, $to: Int!) {
  consistencyProof(fromSize: $from, toSize: $to) { path }
}
"""
