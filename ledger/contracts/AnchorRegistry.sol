// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title Merkle roots of document batches, who anchored them and when; revocations.
/// @notice No payments and no external calls: the registry only records and emits.
/// Only the issuer who anchored a root may revoke it or one of its documents; a document is
/// shown to be in the root by its Merkle path (the receipt's hash scheme
/// fieldcrm-merkle-sha256-v1), and its revocation is kept under that issuer, so one issuer
/// can never revoke another's document.
contract AnchorRegistry {
    struct Root {
        address issuer;
        uint64 anchoredAt;
        uint64 revokedAt;
    }

    /// @dev One step of a receipt's path: the sibling hash and whether it sits on the left.
    struct ProofStep {
        bytes32 sibling;
        bool left;
    }

    address public immutable owner;
    mapping(address => bool) public isIssuer;
    mapping(bytes32 => Root) private _roots;
    mapping(address => mapping(bytes32 => uint64)) private _documentRevokedAt;

    event IssuerAdded(address indexed issuer);
    event IssuerRemoved(address indexed issuer);
    event Anchored(bytes32 indexed root, address indexed issuer);
    event RootRevoked(bytes32 indexed root, address indexed issuer, string reason);
    event DocumentRevoked(
        bytes32 indexed docHash, bytes32 indexed root, address indexed issuer, string reason
    );

    error NotOwner();
    error NotIssuer();
    error ZeroRoot();
    error AlreadyAnchored(bytes32 root);
    error UnknownRoot(bytes32 root);
    /// @notice Only `issuer`, who anchored `root`, may revoke it or its documents.
    error NotRootIssuer(bytes32 root, address issuer);
    /// @notice The salt and path do not lead from `docHash` to `root`.
    error NotInRoot(bytes32 docHash, bytes32 root);
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

    /// @notice Revoke every document of a batch (only the issuer who anchored it).
    function revokeRoot(bytes32 root, string calldata reason) external {
        Root storage record = _anchoredBySender(root);
        if (record.revokedAt != 0) revert AlreadyRevoked(root);
        record.revokedAt = uint64(block.timestamp);
        emit RootRevoked(root, msg.sender, reason);
    }

    /// @notice Revoke one document of the batch `root`, shown to be in it by its receipt's salt
    /// and path (only the issuer who anchored the root). It stays revoked in every batch of
    /// that issuer.
    function revokeDocument(
        bytes32 docHash,
        bytes32 salt,
        ProofStep[] calldata path,
        bytes32 root,
        string calldata reason
    ) external {
        _anchoredBySender(root);
        if (_rootOf(docHash, salt, path) != root) revert NotInRoot(docHash, root);
        if (_documentRevokedAt[msg.sender][docHash] != 0) revert AlreadyRevoked(docHash);
        _documentRevokedAt[msg.sender][docHash] = uint64(block.timestamp);
        emit DocumentRevoked(docHash, root, msg.sender, reason);
    }

    function rootInfo(bytes32 root)
        external
        view
        returns (address issuer, uint64 anchoredAt, uint64 revokedAt)
    {
        Root storage record = _roots[root];
        return (record.issuer, record.anchoredAt, record.revokedAt);
    }

    /// @notice When `issuer` revoked the document `docHash` (0: not revoked by them).
    function documentRevokedAt(address issuer, bytes32 docHash) external view returns (uint64) {
        return _documentRevokedAt[issuer][docHash];
    }

    function _anchoredBySender(bytes32 root) private view returns (Root storage record) {
        record = _roots[root];
        if (record.issuer == address(0)) revert UnknownRoot(root);
        if (msg.sender != record.issuer) revert NotRootIssuer(root, record.issuer);
    }

    /// @dev leaf = sha256(0x00 || salt || docHash); node = sha256(0x01 || left || right).
    function _rootOf(bytes32 docHash, bytes32 salt, ProofStep[] calldata path)
        private
        pure
        returns (bytes32 running)
    {
        running = sha256(abi.encodePacked(bytes1(0x00), salt, docHash));
        for (uint256 i = 0; i < path.length; ++i) {
            running = path[i].left
                ? sha256(abi.encodePacked(bytes1(0x01), path[i].sibling, running))
                : sha256(abi.encodePacked(bytes1(0x01), running, path[i].sibling));
        }
    }
}
