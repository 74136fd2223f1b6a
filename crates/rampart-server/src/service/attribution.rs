//! Attribution of an order: the person or client, algorithm and desk behind it.
//!
//! RTS 6 asks the firm to know which trader, algorithm, desk and account each
//! order comes from. The facts are taken from the verified principal and from
//! the records read in the order's own transaction, never from what a person
//! claims: only an API client may name an algorithm in its request. The
//! person who owns a client is read in the same transaction, for the kill
//! switch scoped to that person.

use rampart_core::{
    Attribution, FieldError, FieldErrorKind, Order, OrderRequest, PlacedByKind, Principal,
};
use rampart_store::{AccountRecord, Store, StoreError, WriteTx};

/// The algorithm `request` names, refused when a person names one.
pub fn requested_algo(
    principal: &Principal,
    request: &OrderRequest,
) -> Result<Option<String>, FieldError> {
    let algo_id = request.requested_algo_id()?;
    match (PlacedByKind::from(principal.kind), algo_id) {
        (PlacedByKind::User, Some(_)) => Err(FieldError::new(
            "algo_id",
            FieldErrorKind::NotAllowed("for orders placed by a person"),
        )),
        (_, algo_id) => Ok(algo_id),
    }
}

/// The attribution of an order by `principal` on `account`, read in `tx`.
///
/// A client's algorithm is the one its request names, else the one its record
/// names, else the client id itself; a person's order names none.
pub async fn resolve(
    tx: &mut WriteTx<'_>,
    principal: &Principal,
    account: &AccountRecord,
    requested: Option<String>,
) -> Result<Attribution, StoreError> {
    let kind = PlacedByKind::from(principal.kind);
    let algo_id = match (kind, requested) {
        (PlacedByKind::User, _) => None,
        (PlacedByKind::Client, Some(algo_id)) => Some(algo_id),
        (PlacedByKind::Client, None) => Some(
            tx.client_algo_id(&principal.id)
                .await?
                .unwrap_or_else(|| principal.id.clone()),
        ),
    };
    Ok(Attribution::new(&principal.id, kind)
        .with_algo(algo_id)
        .with_desk(account.desk.clone()))
}

/// The person behind an order placed by an API client: the client's owner, read in `tx`.
///
/// A `trader:` kill switch stops that person's clients too; an order a
/// person places by hand (or through a linked outside identity, which signs
/// in as that person) is theirs already, so it names nobody else.
pub async fn person_behind(
    tx: &mut WriteTx<'_>,
    by: &Attribution,
) -> Result<Option<String>, StoreError> {
    match by.placed_by_kind {
        PlacedByKind::User => Ok(None),
        PlacedByKind::Client => tx.client_owner(&by.placed_by).await,
    }
}

/// The person behind a recorded `order`: the owner of the client that placed it, if any.
pub async fn person_behind_order(
    store: &Store,
    order: &Order,
) -> Result<Option<String>, StoreError> {
    match order.placed_by_kind {
        PlacedByKind::User => Ok(None),
        PlacedByKind::Client => store.client_owner(&order.placed_by).await,
    }
}

#[cfg(test)]
mod tests {
    use rampart_core::{PrincipalKind, RoleSet};

    use super::*;

    fn principal(kind: PrincipalKind) -> Principal {
        Principal {
            id: "p-1".into(),
            kind,
            roles: RoleSet::default(),
            accounts: Vec::new(),
        }
    }

    fn request(algo_id: Option<&str>) -> OrderRequest {
        let mut body = serde_json::json!({
            "account_id": "ACC-1", "instrument": "BTC-USD", "side": "buy",
            "type": "market", "quantity": "1"
        });
        if let Some(algo_id) = algo_id {
            body["algo_id"] = algo_id.into();
        }
        serde_json::from_value(body).unwrap()
    }

    #[test]
    fn a_client_may_name_its_algorithm() {
        let named = requested_algo(&principal(PrincipalKind::Client), &request(Some("twap-1")));
        assert_eq!(named.unwrap().as_deref(), Some("twap-1"));
    }

    #[test]
    fn a_person_may_not_name_an_algorithm() {
        let error = requested_algo(&principal(PrincipalKind::User), &request(Some("twap-1")));
        assert_eq!(error.unwrap_err().field, "algo_id");
        let none = requested_algo(&principal(PrincipalKind::User), &request(None));
        assert_eq!(none.unwrap(), None);
    }

    #[test]
    fn an_unsafe_algorithm_id_is_refused() {
        let error = requested_algo(&principal(PrincipalKind::Client), &request(Some("a b")));
        assert_eq!(error.unwrap_err().field, "algo_id");
    }
}
