mod common;
#[tokio::test]
async fn harness_compiles() {
    let s = common::TestServer::start().await;
    let p = s.create_pool(&["+15550001001"], serde_json::json!({})).await;
    let a = s.new_session(&p, None, "https://shop.example/").await;
    assert_eq!(a["number"], "+15550001001");
    s.shutdown().await;
}
