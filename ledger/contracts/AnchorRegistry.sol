// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title Merkle roots of document batches, who anchored them and when; revocations.
/// @notice No payments and no external calls: the registry only records and emits.
contract AnchorRegistry {
    struct Root {
        address issuer;
        uint64 anchoredAt;
        uint64 revokedAt;
    }

    struct DocumentRevocation {
        address by;
        uint64 revokedAt;
    }

    address public immutable owner;
    mapping(address => bool) public isIssuer;
    mapping(bytes32 => Root) private _roots;
    mapping(bytes32 => DocumentRevocation) private _documents;

    event IssuerAdded(address indexed issuer);
    event IssuerRemoved(address indexed issuer);
    event Anchored(bytes32 indexed root, address indexed issuer);
    /// @dev isRoot tells whether `hash` is a Merkle root or a single document's SHA-256.
    event Revoked(bytes32 indexed hash, bool isRoot, address indexed by, string reason);

    error NotOwner();
    error NotIssuer();
    error NotAllowed();
    error ZeroRoot();
    error AlreadyAnchored(bytes32 root);
    error UnknownRoot(bytes32 root);
    error AlreadyRevoked(bytes32 hash);

    constructor() {
        owner = msg.sender;
        isIssuer[msg.sender] = true;
        emit IssuerAdded(msg.sender);
    }

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner();
        _;
    }

    function addIssuer(address issuer) external onlyOwner {
        isIssuer[issuer] = true;
        emit IssuerAdded(issuer);
    }

    function removeIssuer(address issuer) external onlyOwner {
        isIssuer[issuer] = false;
        emit IssuerRemoved(issuer);
    }

    /// @notice Record a batch root; an existing root reverts, so a root is anchored once.
    function anchor(bytes32 root) external {
        if (!isIssuer[msg.sender]) revert NotIssuer();
        if (root == bytes32(0)) revert ZeroRoot();
        if (_roots[root].issuer != address(0)) revert AlreadyAnchored(root);
        _roots[root] = Root(msg.sender, uint64(block.timestamp), 0);
        emit Anchored(root, msg.sender);
    }

    /// @notice Revoke every document of a batch (owner or the root's issuer).
    function revokeRoot(bytes32 root, string calldata reason) external {
        Root storage record = _anchoredBy(root);
        if (record.revokedAt != 0) revert AlreadyRevoked(root);
        record.revokedAt = uint64(block.timestamp);
        emit Revoked(root, true, msg.sender, reason);
    }

    /// @notice Revoke one document of the batch `root` (owner or the root's issuer).
    function revokeDocument(bytes32 docHash, bytes32 root, string calldata reason) external {
        _anchoredBy(root);
        if (_documents[docHash].revokedAt != 0) revert AlreadyRevoked(docHash);
        _documents[docHash] = DocumentRevocation(msg.sender, uint64(block.timestamp));
        emit Revoked(docHash, false, msg.sender, reason);
    }

    function rootInfo(bytes32 root)
        external
        view
        returns (address issuer, uint64 anchoredAt, uint64 revokedAt)
    {
        Root storage record = _roots[root];
        return (record.issuer, record.anchoredAt, record.revokedAt);
    }

    function documentRevokedAt(bytes32 docHash) external view returns (uint64) {
        return _documents[docHash].revokedAt;
    }

    function _anchoredBy(bytes32 root) private view returns (Root storage record) {
        record = _roots[root];
        if (record.issuer == address(0)) revert UnknownRoot(root);
        if (msg.sender != owner && msg.sender != record.issuer) revert NotAllowed();
    }
}
